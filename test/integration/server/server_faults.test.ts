import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';
import { spawnServer } from './server_process.ts';

// Faults with the real engine (tiny generated Phi-4-mm model in its worker): the server process killed
// with SIGKILL mid-stream, and the engine worker killed mid-answer.
const dir = mkdtempSync(join(tmpdir(), 'earshot-faults-'));
let modelDir: string;
beforeAll(async () => {
  modelDir = await ensureFixtureModel('tiny');
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Completed = { item_id: string; transcript: string };

describe('SIGKILL of the server mid-session', () => {
  it('every transcript completed before the kill is in the store after a restart', async () => {
    const store = join(dir, 'kill.sqlite');
    const first = await spawnServer(['--store', store, '--model', modelDir], {
      dataDir: dir,
      env: { EARSHOT_AGENT_CAPTION_MAX_TOKENS: '4' },
    });
    const c = await TestClient.connect(`${first.url}?intent=transcription`);
    const sessionId = (c.events[0].session as { id: string }).id;
    await use16kBinary(c);
    streamPcm16k(
      c,
      placeWithGaps({ clips: [CARD_CLIPS[0], CARD_CLIPS[1], CARD_CLIPS[2], CARD_CLIPS[3], CARD_CLIPS[4]], gapsMs: 900 })
        .samples16k,
    );
    await c.waitFor(() => c.ofType('conversation.item.input_audio_transcription.completed').length >= 2, 60_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toMatchObject({ signal: 'SIGKILL' });
    await c.closed;
    const completed = c.ofType('conversation.item.input_audio_transcription.completed') as unknown as Completed[];
    const committed = c.ofType('input_audio_buffer.committed').map((e) => e.item_id);
    expect(completed.length).toBeGreaterThanOrEqual(2);

    const second = await spawnServer(['--store', store, '--model', modelDir], { dataDir: dir });
    try {
      const res = await fetch(`${second.httpUrl}/v1/sessions/${sessionId}/transcript?format=json`);
      expect(res.status).toBe(200);
      const stored = (await res.json()) as { utterances: { item_id: string; transcript: string | null }[] };
      const byId = new Map(stored.utterances.map((u) => [u.item_id, u.transcript]));
      for (const e of completed) expect(byId.get(e.item_id), e.item_id).toBe(e.transcript);
      // Every commit the client saw is there too (its transcript may have been cut off).
      for (const id of committed) expect(byId.has(id as string), id as string).toBe(true);
      const session = (await (await fetch(`${second.httpUrl}/v1/sessions/${sessionId}`)).json()) as {
        end_reason: string;
      };
      expect(session.end_reason).toBe('interrupted');
    } finally {
      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    }
    // SIGTERM flushed the WAL into the main file.
    const reopened = TranscriptStore.open({ path: store });
    expect(reopened.getUtterances(sessionId).length).toBeGreaterThanOrEqual(completed.length);
    reopened.close();
  }, 120_000);
});

describe('engine worker killed mid-answer', () => {
  let host: EngineHost;
  beforeAll(async () => {
    host = createEngineHost({ modelDir, intraOpNumThreads: 1, interOpNumThreads: 1 });
    await host.ready;
  }, 120_000);
  afterAll(async () => host?.close());

  it('the session gets an error, the server lives, the worker comes back and new sessions work', async () => {
    const server = await startTestServer({ agent: { caption_max_tokens: 4, max_output_tokens: 64 } }, { engine: host });
    try {
      expect(server.isReady()).toBe(true);
      const a = await TestClient.connect(server.url);
      await use16kBinary(a);
      streamPcm16k(a, placeWithGaps({ clips: [LIBRIVOX_CLIPS[0]], gapsMs: [300, 1200] }).samples16k);
      await a.waitFor((e) => e.type === 'response.created', 60_000);
      await host.terminateWorker();
      const failure = await a.waitFor(
        (e) =>
          e.type === 'error' || (e.type === 'response.done' && (e.response as { status: string }).status === 'failed'),
        30_000,
      );
      expect(JSON.stringify(failure)).toContain('E_ENGINE_WORKER_EXITED');
      expect(a.closeCode).toBeNull();
      await host.ready;
      expect(host.restarts).toBe(1);
      // A new session on the new worker: turn to caption, end to end.
      const b = await TestClient.connect(`${server.url}?intent=transcription`);
      await use16kBinary(b);
      streamPcm16k(b, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [300, 1200] }).samples16k);
      await b.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.completed', 60_000);
      expect(b.ofType('error')).toEqual([]);
      expect(await server.metrics.registry.getSingleMetricAsString('earshot_errors_total')).toContain(
        'E_ENGINE_WORKER_EXITED',
      );
      await a.close();
      await b.close();
    } finally {
      // Terminating a worker while onnxruntime runs aborts the process: let queued work finish first.
      for (let i = 0; i < 300 && (await host.totals().catch(() => ({ pendingRequests: 0 }))).pendingRequests > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      await server.close();
    }
  }, 120_000);
});
