import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerModelPullCommand } from '../../../src/cli/commands/model_pull.ts';
import { kokoroConfigSchema } from '../../../src/config/kokoro_schema.ts';
import { ensureKokoroFixture } from '../../../src/tts/kokoro/fixture/cache.ts';
import { KOKORO_REPO_ID } from '../../../src/tts/kokoro/location.ts';
import { openKokoroSynthesizer } from '../../../src/tts/kokoro/open.ts';
import { pullKokoro } from '../../../src/tts/kokoro/pull.ts';
import { closedPort, startFakeHub, type FakeHub, type FakeHubFile } from './fake_hub.ts';

// `earshot model pull kokoro` and the first-use fetch against a loopback fake hub serving the generated
// Kokoro fixture in the hub repository's layout (plus files Earshot leaves on the hub).

const FAST = {
  connectTimeoutMs: 2_000,
  stallTimeoutMs: 300,
  retry: { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 5 },
};
let fixtureDir: string;
let hubFiles: Record<string, FakeHubFile>;
const made: string[] = [];
let hub: FakeHub | undefined;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-kokoro-pull-'));
  made.push(dir);
  return join(dir, 'kokoro');
}

beforeAll(() => {
  fixtureDir = ensureKokoroFixture();
  hubFiles = {};
  for (const rel of listFiles(fixtureDir).filter((f) => !f.startsWith('.'))) {
    hubFiles[rel] = {
      content: readFileSync(join(fixtureDir, rel)),
      lfs: rel.endsWith('.onnx') || rel.endsWith('.bin'),
    };
  }
  hubFiles['README.md'] = { content: Buffer.from('# Kokoro\n') };
  hubFiles['onnx/model_q4f16.onnx'] = { content: Buffer.from('not fetched'), lfs: true };
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('pullKokoro against a loopback fake hub', () => {
  it('fetches the chosen precisions, every voice and tokenizer.json, verified, then skips them on a rerun', async () => {
    hub = await startFakeHub({ repo: KOKORO_REPO_ID, files: hubFiles, redirectToCdn: true, pageSize: 3 });
    const dir = await tempDir();
    const result = await pullKokoro({ dir, precisions: ['fp32', 'q8'], endpoint: hub.endpoint, env: {}, ...FAST });
    expect(listFiles(dir)).toEqual([
      'config.json',
      'onnx/model.onnx',
      'onnx/model_quantized.onnx',
      'tokenizer.json',
      'voices/af_bella.bin',
      'voices/af_heart.bin',
      'voices/am_michael.bin',
      'voices/bf_emma.bin',
    ]);
    for (const f of listFiles(dir)) expect(readFileSync(join(dir, f)).equals(hubFiles[f].content)).toBe(true);
    expect(result.files.at(-1)?.path).toBe('tokenizer.json');
    const again = await pullKokoro({ dir, precisions: ['fp32', 'q8'], endpoint: hub.endpoint, env: {}, ...FAST });
    expect(again.files.every((f) => f.skipped)).toBe(true);
  });

  it('resumes a cut download with a Range request', async () => {
    hubFiles['onnx/model.onnx'] = { ...hubFiles['onnx/model.onnx'], cutAfterBytes: 1000, cutTimes: 1 };
    try {
      hub = await startFakeHub({ repo: KOKORO_REPO_ID, files: hubFiles });
      const dir = await tempDir();
      await pullKokoro({ dir, precisions: ['fp32'], endpoint: hub.endpoint, env: {}, ...FAST });
      expect(readFileSync(join(dir, 'onnx/model.onnx')).equals(hubFiles['onnx/model.onnx'].content)).toBe(true);
      expect(hub.downloadsOf('onnx/model.onnx').map((r) => r.range)).toEqual([undefined, 'bytes=1000-']);
    } finally {
      hubFiles['onnx/model.onnx'] = { content: hubFiles['onnx/model.onnx'].content, lfs: true };
    }
  });

  it('refuses bytes whose sha256 differs from the listing', async () => {
    const voice = hubFiles['voices/af_heart.bin'];
    const corrupt = Buffer.from(voice.content);
    corrupt[10] ^= 0xff;
    hub = await startFakeHub({
      repo: KOKORO_REPO_ID,
      files: { ...hubFiles, 'voices/af_heart.bin': { ...voice, served: corrupt } },
    });
    const dir = await tempDir();
    await expect(
      pullKokoro({ dir, precisions: ['q8'], endpoint: hub.endpoint, env: {}, ...FAST }),
    ).rejects.toMatchObject({ code: 'E_MODEL_PULL' });
    expect(listFiles(dir)).not.toContain('tokenizer.json');
  });

  it('names the missing files when the hub lacks a precision', async () => {
    hub = await startFakeHub({ repo: KOKORO_REPO_ID, files: hubFiles });
    await expect(
      pullKokoro({ dir: await tempDir(), precisions: ['uint8'], endpoint: hub.endpoint, env: {}, ...FAST }),
    ).rejects.toMatchObject({ code: 'E_MODEL_PULL', message: expect.stringContaining('onnx/model_uint8.onnx') });
  });
});

describe('Kokoro on first use', () => {
  it('fetches the files when the folder is empty, then speaks', async () => {
    hub = await startFakeHub({ repo: KOKORO_REPO_ID, files: hubFiles });
    const dir = await tempDir();
    const config = kokoroConfigSchema.parse({ dir, pull_precisions: ['q8'], intra_op_threads: 1 });
    const kokoro = await openKokoroSynthesizer(config, { endpoint: hub.endpoint, env: {}, pullTimeouts: FAST });
    try {
      expect(kokoro).not.toBeNull();
      const chunks = [];
      for await (const c of kokoro!.synthesize({
        text: 'Fetched and speaking.',
        voice: 'af_heart',
        speed: 1,
        signal: new AbortController().signal,
      }))
        chunks.push(c);
      expect(chunks).toHaveLength(1);
      expect(chunks[0].pcm.length).toBeGreaterThan(0);
    } finally {
      await kokoro?.close();
    }
  });

  it('gives no synthesizer (null) when the files are absent and the hub cannot be reached', async () => {
    const dir = await tempDir();
    const config = kokoroConfigSchema.parse({ dir, intra_op_threads: 1 });
    const warnings: string[] = [];
    const log = { info: () => undefined, warn: (_d: object, m: string) => void warnings.push(m) };
    await expect(
      openKokoroSynthesizer(config, {
        endpoint: `http://127.0.0.1:${await closedPort()}`,
        env: {},
        pullTimeouts: FAST,
        log,
      }),
    ).resolves.toBeNull();
    expect(warnings).toEqual(['kokoro: the model files cannot be fetched; no Kokoro voice']);
  });
});

describe('earshot model pull kokoro (commander)', () => {
  async function runCli(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ exitCode: number; code?: string; stdout: string; stderr: string }> {
    const out = new PassThrough();
    const err: PassThrough & { isTTY?: boolean } = new PassThrough();
    err.isTTY = false;
    const text = (s: PassThrough) => () => (s.read() as Buffer | null)?.toString('utf8') ?? '';
    const program = new Command('earshot')
      .exitOverride()
      .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerModelPullCommand(program.command('model'), { env, stdout: out, stderr: err, pullOverrides: FAST });
    try {
      await program.parseAsync(['node', 'earshot', 'model', 'pull', 'kokoro', ...args]);
      return { exitCode: 0, stdout: text(out)(), stderr: text(err)() };
    } catch (e) {
      if (!(e instanceof CommanderError)) throw e;
      return { exitCode: e.exitCode, code: e.code, stdout: text(out)(), stderr: text(err)() };
    }
  }

  it('downloads the chosen precisions into --dir with progress, honouring HF_ENDPOINT', async () => {
    hub = await startFakeHub({ repo: KOKORO_REPO_ID, files: hubFiles });
    const dir = await tempDir();
    const run = await runCli(['--dir', dir, '--precisions', 'fp16'], { HF_ENDPOINT: hub.endpoint });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Kokoro (${KOKORO_REPO_ID}@main, fp16) is complete in ${dir}: 7 file(s) downloaded`);
    expect(run.stderr).toMatch(/^Pulling 7 files/m);
    expect(listFiles(dir)).toContain('onnx/model_fp16.onnx');
  });

  it('exits 1 with E_MODEL_PULL when the hub cannot be reached', async () => {
    const run = await runCli(['--dir', await tempDir()], { HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    expect(run.exitCode).toBe(1);
    expect(run.code).toBe('E_MODEL_PULL');
  });
});
