import { Command } from 'commander';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerModelCheckCommand } from '../../../src/cli/commands/model_check.ts';
import { registerModelFixtureCommand } from '../../../src/cli/commands/model_fixture.ts';
import { encodeAdapter } from '../../../src/engine/phi4mm/adapter_format.ts';
import { ensureFixtureModel, FIXTURE_FILES } from '../../../src/engine/phi4mm/fixture/index.ts';
import { copyModelDir, editGraph, setInputType } from './model_copy.ts';

const temp = mkdtempSync(join(tmpdir(), 'earshot-model-cli-'));
let fixture: string;
beforeAll(async () => {
  fixture = await ensureFixtureModel('tiny');
}, 60_000);
afterAll(() => rmSync(temp, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

async function run(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const program = new Command('earshot').exitOverride();
  const model = program.command('model');
  registerModelCheckCommand(model);
  registerModelFixtureCommand(model);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'earshot', 'model', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return { stdout, stderr, exitCode: typeof process.exitCode === 'number' ? process.exitCode : 0 };
}

describe('earshot model check', () => {
  it('prints a summary and exits 0 for the fixture', async () => {
    const result = await run(['check', fixture]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`OK: ${fixture}`);
    expect(result.stdout).toContain('cpu variant (float32 graphs), 2 layers, hidden 64, vocab 200064');
    expect(result.stdout).toContain(
      "speech LoRA: applied at rank 64 (the decoder's LoRA branches are rank 32; the engine rewrites them to the adapter's rank at load)",
    );
    expect(result.stdout).toContain('LoRA tensors still graph inputs after the rewrite: 0\n');
  });

  it('lists the differences on stderr and exits 1', async () => {
    const dir = copyModelDir(fixture);
    editGraph(dir, FIXTURE_FILES.text, (g) => setInputType(g, 'attention_mask', 6));
    const result = await run(['check', dir]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('(1 difference)');
    expect(result.stderr).toContain('phi-4-mm-text.onnx: input "attention_mask": expected int64, found int32');
  });

  it('--json prints the structured result', async () => {
    const result = await run(['check', '--json', fixture]);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      variant: 'cpu',
      speech_adapter: 'applied',
      speech_adapter_rank: 64,
      graph_lora_rank: 32,
      lora_graph_inputs: 0,
      problems: [],
    });
    expect(report.speech_adapter_rank).toBeGreaterThan(report.graph_lora_rank);
    expect(report.resident_bytes_estimate).toBeGreaterThan(0);
  });

  it('--json on a model whose adapter does not fit: refused, listed, exit 1', async () => {
    const dir = copyModelDir(fixture);
    writeFileSync(
      join(dir, FIXTURE_FILES.speechAdapter),
      encodeAdapter([
        {
          name: 'model.layers.0.attn.q_proj.lora_A.MatMul.weight_Q4',
          dims: [8, 1, 16],
          dataType: 2,
          rawData: new Uint8Array(128),
        },
      ]),
    );
    const result = await run(['check', '--json', dir]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: false,
      speech_adapter: 'refused',
      speech_adapter_rank: 8,
      graph_lora_rank: 32,
      lora_graph_inputs: 0,
    });
    expect(report.problems).toContain(
      'model.layers.0.attn.q_proj: the adapter lacks model.layers.0.attn.q_proj.lora_A.MatMul.weight_scales, model.layers.0.attn.q_proj.lora_B.MatMul.weight_Q4, model.layers.0.attn.q_proj.lora_B.MatMul.weight_scales',
    );
  });
});

describe('earshot model fixture', () => {
  it('writes a tiny model that passes the check', async () => {
    const out = join(temp, 'tiny');
    const result = await run(['fixture', '--out', out, '--seed', '3']);
    expect(result.stdout).toContain('Wrote tiny fixture (seed 3, float32)');
    expect(readdirSync(out)).toContain(FIXTURE_FILES.text);
    expect((await run(['check', out])).exitCode).toBe(0);
  });

  it('rejects an invalid preset and seed', async () => {
    await expect(run(['fixture', '--out', join(temp, 'x'), '--preset', 'huge'])).rejects.toThrow(/preset/);
    await expect(run(['fixture', '--out', join(temp, 'x'), '--seed', '-1'])).rejects.toThrow(/seed/);
  });
});
