import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerModelPullCommand, type ModelPullDeps } from '../../../src/cli/commands/model_pull.ts';
import { GPU_VARIANT_FOLDER, MODEL_REPO_ID } from '../../../src/engine/phi4mm/pull/variants.ts';
import { closedPort, startFakeHub, type FakeHub } from './fake_hub.ts';
import { variantFiles } from './hub_layouts.ts';

interface CliRun {
  exitCode: number;
  code?: string;
  stdout: string;
  stderr: string;
}

function sink(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream: PassThrough & { isTTY?: boolean } = new PassThrough();
  stream.isTTY = false;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

// The same shape main.ts builds: a program with exitOverride, an `earshot model` parent, our subcommand.
async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const stdout = sink();
  const stderr = sink();
  let commanderErr = '';
  const program = new Command('earshot')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => stdout.stream.write(s),
      writeErr: (s) => {
        commanderErr += s;
      },
    });
  const model = program.command('model').description('manage the model');
  const deps: ModelPullDeps = {
    env,
    stdout: stdout.stream,
    stderr: stderr.stream,
    pullOverrides: {
      connectTimeoutMs: 2_000,
      stallTimeoutMs: 500,
      retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 },
    },
  };
  registerModelPullCommand(model, deps);
  try {
    await program.parseAsync(['node', 'earshot', 'model', 'pull', ...args]);
    return { exitCode: 0, stdout: stdout.text(), stderr: stderr.text() + commanderErr };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { exitCode: err.exitCode, code: err.code, stdout: stdout.text(), stderr: stderr.text() + commanderErr };
  }
}

describe('earshot model pull (commander)', () => {
  let dir: string;
  let hub: FakeHub | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-pull-cli-'));
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads the variant into --dir, honouring HF_ENDPOINT, states the size first, and exits 0', async () => {
    const files = variantFiles(GPU_VARIANT_FOLDER);
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    const run = await runCli(['--variant', 'gpu', '--dir', dir], { HF_ENDPOINT: hub.endpoint });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`is complete in ${dir}`);
    expect(run.stdout).toContain('11 file(s) downloaded');
    expect(run.stdout).toContain('6 file(s) of the folder left on the hub');
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^Pulling 11 files of ${GPU_VARIANT_FOLDER} \\([\\d.]+ KiB\\) into ${dir}: [\\d.]+ KiB to download`),
    );
    // Percent, bytes, speed and time left on every plain progress line.
    expect(run.stderr).toMatch(/^100% [\d.]+ KiB\/[\d.]+ KiB [\d.]+ \S+\/s ETA \S+/m);
    expect((await readdir(dir)).length).toBe(11);

    const again = await runCli(['--variant', 'gpu', '--dir', dir], { HF_ENDPOINT: hub.endpoint });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('0 file(s) downloaded (0 B), 11 already present');
  });

  it('--with-vision adds the vision files', async () => {
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: variantFiles(GPU_VARIANT_FOLDER) });
    const run = await runCli(['--variant', 'gpu', '--with-vision'], { HF_ENDPOINT: hub.endpoint, EARSHOT_MODEL: dir });
    expect(run.exitCode).toBe(0);
    expect(await readdir(dir)).toContain('phi-4-mm-vision.onnx.data');
    expect((await readdir(dir)).length).toBe(15);
  });

  it('exits 1 naming the folders found when no folder fits', async () => {
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: variantFiles('cpu/cpu-fp32') });
    const run = await runCli(['--dir', dir], { HF_ENDPOINT: hub.endpoint });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('error E_MODEL_PULL: Cannot find the cpu export');
    expect(run.stderr).toContain('folders with one: cpu/cpu-fp32');
  });

  it('exits 1 with one E_MODEL_PULL message explaining the manual install when offline', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const run = await runCli(['--variant', 'gpu', '--dir', dir], { HF_ENDPOINT: endpoint });
    expect(run.exitCode).toBe(1);
    expect(run.code).toBe('E_MODEL_PULL');
    expect(run.stderr).toContain('error E_MODEL_PULL: Cannot reach the Hugging Face hub');
    expect(run.stderr).toContain(`${endpoint}/${MODEL_REPO_ID}/tree/main/${GPU_VARIANT_FOLDER}`);
    expect(run.stderr).toContain(`directly into ${dir}`);
    expect(run.stderr.match(/Cannot reach/g)).toHaveLength(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toContain('Usage:');
  });

  it('rejects an unknown variant through commander', async () => {
    const run = await runCli(['--variant', 'tpu', '--dir', dir], {});
    expect(run.exitCode).toBe(1);
    expect(run.code).toBe('commander.invalidArgument');
    expect(run.stderr).toContain('cpu, gpu');
    expect(run.stderr).toContain('Usage: earshot model pull');
  });
});
