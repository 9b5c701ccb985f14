import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AutoPullSettings } from '../../../src/engine/model_provisioning.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { CPU_VARIANT_FOLDER, MODEL_REPO_ID } from '../../../src/engine/phi4mm/pull/variants.ts';
import type { RunningServer } from '../../../src/main.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';
import { closedPort, isGraphCacheEntry, startFakeHub, type FakeHub, type FakeHubFile } from './fake_hub.ts';
import { VISION_FILES } from './hub_layouts.ts';
import { waitFor } from '../../helpers/wait_for.ts';

// First start without a model: the server listens at once, fetches the model from the (fake, local) hub in
// the background while turn detection works, reports the progress on /readyz, then loads the engine without
// a restart. The hub serves the generated tiny model in the published CPU folder.

const TEXT_DATA = 'phi-4-mm-text.onnx.data';
// Bytes of the text graph's data left by an "earlier run" (.part), so the start resumes it with a Range.
const PARTIAL_BYTES = 5_000_000;
const FAST = {
  connectTimeoutMs: 2_000,
  stallTimeoutMs: 60_000,
  retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 5 },
};

let modelFiles: Record<string, Buffer>;
/** What the pull fetches of `modelFiles`: the engine's files (vision stays on the hub without --with-vision). */
let pulled: string[];
let hub: FakeHub | undefined;
let server: RunningServer | undefined;
let dir: string;

beforeAll(async () => {
  const fixture = await ensureFixtureModel('tiny');
  modelFiles = {};
  // The hub holds the export as published: not the marker, nor the rewritten-graph cache entries that other
  // tests' engines write beside the shared fixture when they load it.
  for (const name of await readdir(fixture)) {
    if (!name.startsWith('.') && !isGraphCacheEntry(name)) modelFiles[name] = await readFile(join(fixture, name));
  }
  pulled = Object.keys(modelFiles).filter((name) => !VISION_FILES.includes(name));
}, 300_000);

afterEach(async () => {
  await server?.close();
  await hub?.close();
  server = undefined;
  hub = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

function hubFiles(overrides: Record<string, Partial<FakeHubFile>> = {}): Record<string, FakeHubFile> {
  const files: Record<string, FakeHubFile> = { 'README.md': { content: Buffer.from('# card\n') } };
  for (const [name, content] of Object.entries(modelFiles)) {
    files[`${CPU_VARIANT_FOLDER}/${name}`] = { content, lfs: content.length > 10_000, ...overrides[name] };
  }
  return files;
}

function sink(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream: PassThrough & { isTTY?: boolean } = new PassThrough();
  stream.isTTY = false;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function start(
  autoPull: Partial<AutoPullSettings> & { progressStream: AutoPullSettings['progressStream'] },
  autoPullConfig = true,
): Promise<RunningServer> {
  return startTestServer(
    { model: { dir, auto_pull: autoPullConfig }, engine: { intra_op_threads: 1 } },
    { autoPull: { variant: 'cpu', env: {}, ...FAST, ...autoPull } },
  );
}

async function readyz(s: RunningServer): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.httpUrl}/readyz`);
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitForReadyz(
  s: RunningServer,
  pred: (r: { code: number; body: Record<string, unknown> }) => boolean,
  timeoutMs: number,
) {
  let last: Awaited<ReturnType<typeof readyz>> | undefined;
  return waitFor(
    async () => {
      last = await readyz(s);
      return pred(last) ? last : null;
    },
    { timeoutMs, intervalMs: 50, what: () => `readyz to match; last ${last?.code} ${JSON.stringify(last?.body)}` },
  );
}

async function speakOnce(s: RunningServer): Promise<TestClient> {
  const c = await TestClient.connect(`${s.url}?intent=transcription`);
  await use16kBinary(c);
  streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 1200] }).samples16k);
  return c;
}

describe('first start without a model', () => {
  it('serves while it downloads (resuming a partial file), reports the percent, then loads the engine without a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-first-start-'));
    await writeFile(join(dir, `${TEXT_DATA}.part`), modelFiles[TEXT_DATA].subarray(0, PARTIAL_BYTES));
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    hub = await startFakeHub({
      repo: MODEL_REPO_ID,
      files: hubFiles({ [TEXT_DATA]: { hold, holdAfterBytes: 4096 } }),
      redirectToCdn: true,
    });
    const progress = sink();
    server = await start({ endpoint: hub.endpoint, progressStream: progress.stream });
    expect(server.engine).toBeNull();

    // Listening, downloading: /readyz says how far, past the resumed part, and not done.
    const downloading = await waitForReadyz(
      server,
      (r) => r.body.status === 'downloading' && (r.body.downloaded_bytes as number) > PARTIAL_BYTES,
      60_000,
    );
    expect(downloading.code).toBe(503);
    expect(downloading.body.percent).toBeGreaterThan(0);
    expect(downloading.body.percent).toBeLessThan(100);
    const total = pulled.reduce((sum, name) => sum + modelFiles[name].length, 0);
    expect(downloading.body.total_bytes).toBe(total);
    // One transfer of the text data, through the CDN redirect, asking only for what the .part lacks.
    const cdn = hub.downloadsOf(`${CPU_VARIANT_FOLDER}/${TEXT_DATA}`).filter((r) => r.url.startsWith('/cdn/'));
    expect(cdn.map((r) => r.range)).toEqual([`bytes=${PARTIAL_BYTES}-`]);

    // Turn detection needs no model: the utterance is committed, its caption fails saying why.
    const early = await speakOnce(server);
    const failed = await early.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.failed', 60_000);
    expect(early.ofType('input_audio_buffer.committed')).toHaveLength(1);
    expect(failed.error).toMatchObject({
      code: 'E_MODEL_MISSING',
      message: expect.stringContaining('being downloaded') as string,
    });
    early.close();

    release();
    const ready = await waitForReadyz(server, (r) => r.code === 200, 180_000);
    expect(ready.body).toEqual({ status: 'ready', voice_engine: 'espeak' });
    expect(server.engine).not.toBeNull();
    // The pulled files, and the engine's own cache entry for the rewritten text graph written at load.
    const present = await readdir(dir);
    expect(present.filter((n) => !isGraphCacheEntry(n)).sort()).toEqual([...pulled].sort());
    expect(present.filter(isGraphCacheEntry).length).toBeGreaterThan(0);

    // A session opened now transcribes with the model fetched on this start.
    const late = await speakOnce(server);
    const done = await late.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.completed', 120_000);
    expect(typeof done.transcript).toBe('string');
    expect(late.ofType('conversation.item.input_audio_transcription.failed')).toEqual([]);
    late.close();

    const lines = progress.text();
    expect(lines).toContain(`Pulling ${pulled.length} files of ${CPU_VARIANT_FOLDER}`);
    expect(lines).toMatch(/^100% .* ETA /m);
  }, 400_000);

  it('offline: says once which files to put where, and keeps serving without a model', async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-first-start-'));
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const progress = sink();
    server = await start({ endpoint, progressStream: progress.stream });
    const missing = await waitForReadyz(server, (r) => r.body.status === 'model_missing', 30_000);
    expect(missing).toEqual({ code: 503, body: { status: 'model_missing', voice_engine: 'espeak' } });
    const text = progress.text();
    expect(text.match(/Cannot reach the Hugging Face hub/g)).toHaveLength(1);
    expect(text).toContain(`directly into ${dir}`);
    expect(text).toContain('phi-4-mm-speech.onnx_adapter');
    expect(text).toContain(CPU_VARIANT_FOLDER);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);

    const c = await speakOnce(server);
    const failed = await c.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.failed', 60_000);
    expect(failed.error).toMatchObject({
      code: 'E_MODEL_MISSING',
      message: expect.stringContaining('the download failed') as string,
    });
    c.close();
  }, 120_000);

  it('model.auto_pull=false never contacts the hub', async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-first-start-'));
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: hubFiles() });
    server = await start({ endpoint: hub.endpoint, progressStream: sink().stream }, false);
    expect(await readyz(server)).toEqual({ code: 503, body: { status: 'model_missing', voice_engine: 'espeak' } });
    expect(hub.requests).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });
});
