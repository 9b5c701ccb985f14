import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerModelFixtureCommand } from '../../../src/cli/commands/model_fixture.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kokoroConfigSchema } from '../../../src/config/kokoro_schema.ts';
import { ExternalDataWriter } from '../../../src/engine/phi4mm/fixture/external_data.ts';
import { GraphBuilder } from '../../../src/engine/phi4mm/fixture/onnx_builder.ts';
import { ensureKokoroFixture } from '../../../src/tts/kokoro/fixture/cache.ts';
import { KokoroRuntime } from '../../../src/tts/kokoro/kokoro_runtime.ts';
import { readKokoroFolder } from '../../../src/tts/kokoro/model_folder.ts';
import { openKokoroSynthesizer } from '../../../src/tts/kokoro/open.ts';
import { padIds } from '../../../src/tts/kokoro/tokenizer.ts';

// Model folders are an input boundary: a wrong voice size, a missing vocabulary or a graph with other inputs
// and outputs is refused with a stable code naming the file; an absent folder that may not be fetched is null.

const made: string[] = [];
function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-kokoro-'));
  made.push(dir);
  cpSync(ensureKokoroFixture(), dir, { recursive: true });
  return dir;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = (dir: string) =>
  openKokoroSynthesizer(kokoroConfigSchema.parse({ dir, auto_pull: false, intra_op_threads: 1 }), { env: {} });

/** A graph with Kokoro's file name but another contract (`tokens` instead of `input_ids`, no speed). */
function wrongGraph(path: string): void {
  const g = new GraphBuilder('wrong', new ExternalDataWriter('/dev/null', 'unused'));
  g.input('tokens', 'int64', [1, 'T']);
  g.input('style', 'float32', [1, 256]);
  const f = g.op('Cast', ['tokens'], '/Cast', { to: { kind: 'int', value: 1 } });
  g.bindOutput(f, 'waveform', 'float32', [1, 'T']);
  writeFileSync(path, g.toModelBytes());
}

describe('Kokoro model folder validation', () => {
  it('an absent folder without auto_pull gives no synthesizer (null), not an error', async () => {
    await expect(open(join(tmpdir(), 'earshot-kokoro-absent-folder'))).resolves.toBeNull();
  });

  it('a voice file of the wrong size is E_MODEL_INVALID naming the file', async () => {
    const dir = copyOfFixture();
    truncateSync(join(dir, 'voices', 'af_bella.bin'), 1000);
    await expect(open(dir)).rejects.toMatchObject({
      code: 'E_MODEL_INVALID',
      message: expect.stringContaining('af_bella.bin is 1000 bytes'),
    });
  });

  it('a tokenizer.json without a vocabulary is E_MODEL_INVALID', () => {
    const dir = copyOfFixture();
    writeFileSync(join(dir, 'tokenizer.json'), '{"model":{"type":"BPE"}}');
    expect(() => readKokoroFolder(dir)).toThrow(expect.objectContaining({ code: 'E_MODEL_INVALID' }));
  });

  it('a folder with only the q8f16 variant is E_MODEL_MISSING (it is never run on the CPU)', () => {
    const dir = copyOfFixture();
    for (const f of ['model.onnx', 'model_fp16.onnx', 'model_quantized.onnx']) unlinkSync(join(dir, 'onnx', f));
    expect(() => readKokoroFolder(dir)).toThrow(
      expect.objectContaining({ code: 'E_MODEL_MISSING', message: expect.stringContaining('model_q8f16.onnx') }),
    );
  });

  it('a graph with other inputs or outputs is E_MODEL_INVALID with the differences', async () => {
    const dir = copyOfFixture();
    wrongGraph(join(dir, 'onnx', 'model_quantized.onnx'));
    const err = await open(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E_MODEL_INVALID' });
    expect((err as Error).message).toMatch(
      /model_quantized\.onnx does not have Kokoro's inputs and outputs: no input input_ids; no input speed; unexpected inputs tokens/,
    );
  });
});

describe('earshot model fixture --kokoro', () => {
  it('writes a valid folder, byte-identical to the cached fixture of the same seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'earshot-kokoro-cli-'));
    made.push(out);
    const program = new Command('earshot').exitOverride();
    registerModelFixtureCommand(program.command('model'));
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'earshot', 'model', 'fixture', '--kokoro', '--out', out, '--seed', '1']);
    } finally {
      process.stdout.write = write;
    }
    const folder = readKokoroFolder(out);
    expect(folder.variants.map((v) => v.precision)).toEqual(['fp32', 'fp16', 'q8']);
    expect(folder.skipped).toEqual(['model_q8f16.onnx']);
    for (const f of ['onnx/model.onnx', 'voices/af_heart.bin', 'tokenizer.json']) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(ensureKokoroFixture(1), f)))).toBe(true);
    }
  });
});

describe('Kokoro run queue', () => {
  it('refuses runs beyond max_queued_runs with E_ENGINE_BUSY and drops cancelled queued runs', async () => {
    const folder = readKokoroFolder(ensureKokoroFixture());
    const ids = padIds(new Array(500).fill(50));
    const style = new Float32Array(256);
    const runtime = await KokoroRuntime.start({
      variants: folder.variants.slice(0, 1),
      checkIds: padIds([50, 51]),
      checkStyle: style,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      maxQueuedRuns: 2,
    });
    try {
      const controller = new AbortController();
      const running = runtime.run(ids, style, 1);
      const queued = [runtime.run(ids, style, 1, controller.signal), runtime.run(ids, style, 1)];
      await expect(runtime.run(ids, style, 1)).rejects.toMatchObject({ code: 'E_ENGINE_BUSY', retryable: true });
      controller.abort();
      await expect(queued[0]).rejects.toMatchObject({ code: 'E_ABORTED' });
      expect((await running).waveform.length).toBe(502 * 600);
      expect((await queued[1]).waveform.length).toBe(502 * 600);
      expect(runtime.depth).toBe(0);
    } finally {
      await runtime.close();
    }
  });
});
