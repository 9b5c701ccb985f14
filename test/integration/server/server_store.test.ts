import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// The transcript store and the metrics fed from each connection's outgoing events, and graceful
// shutdown, on the whole server with a scripted engine (its text is known, its timing controllable).
const dir = mkdtempSync(join(tmpdir(), 'earshot-server-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const speech = () => placeWithGaps({ clips: [CARD_CLIPS[0], CARD_CLIPS[1]], gapsMs: [400, 1200, 1200] }).samples16k;
const ids = (c: TestClient, type: string) => c.ofType(type).map((e) => e.item_id as string);

describe('transcript store fed from the send path', () => {
  it('records the session, utterances with times and transcripts, responses and the end; serves them over HTTP; metrics follow', async () => {
    const path = join(dir, 'store.sqlite');
    const engine = new ScriptedEngine({ answer: () => 'Sure thing.' });
    const server = await startTestServer({ store: { path } }, { engine });
    let sessionId = '';
    try {
      const c = await TestClient.connect(server.url);
      sessionId = (c.events[0].session as { id: string }).id;
      await use16kBinary(c);
      // The audio goes in faster than real time: without this, the second utterance could barge in on the
      // first answer whenever the pipeline outpaces the engine (a loaded machine), and the test is about
      // what is stored, not about barge-in.
      c.send({
        type: 'session.update',
        session: { audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } } },
      });
      await c.roundTrip();
      streamPcm16k(c, speech());
      await c.waitFor(() => c.ofType('response.done').length === 2, 20_000);
      expect(c.ofType('error')).toEqual([]);
      // rate_limits.updated at the start and after each response.done, with the context used.
      const limits = c.ofType('rate_limits.updated');
      expect(limits).toHaveLength(3);
      expect(limits[2].rate_limits).toEqual([
        expect.objectContaining({ name: 'requests' }),
        expect.objectContaining({ name: 'tokens', limit: 4096, remaining: expect.any(Number) }),
      ]);
      const afterDone = c.events.indexOf(c.ofType('response.done')[0]) + 1;
      expect(c.events[afterDone].type).toBe('rate_limits.updated');

      const res = await fetch(`${server.httpUrl}/v1/sessions/${sessionId}`);
      const detail = (await res.json()) as {
        utterances: { item_id: string; start_ms: number; end_ms: number; transcript: string }[];
        responses: { status: string; text: string }[];
        ended_at_ms: number | null;
      };
      expect(detail.utterances.map((u) => u.item_id)).toEqual(ids(c, 'input_audio_buffer.committed'));
      const completed = c.ofType('conversation.item.input_audio_transcription.completed');
      expect(detail.utterances.map((u) => u.transcript)).toEqual(completed.map((e) => e.transcript));
      for (const [i, u] of detail.utterances.entries()) {
        const started = c.ofType('input_audio_buffer.speech_started')[i].audio_start_ms as number;
        expect(u.end_ms).toBeGreaterThan(u.start_ms);
        // The stored start is the detected speech onset; the event's audio_start_ms includes prefix padding.
        expect(u.start_ms).toBeGreaterThanOrEqual(started);
      }
      expect(detail.responses.map((r) => [r.status, r.text])).toEqual([
        ['completed', 'Sure thing.'],
        ['completed', 'Sure thing.'],
      ]);
      expect(detail.ended_at_ms).toBeNull();
      const vtt = await (await fetch(`${server.httpUrl}/v1/sessions/${sessionId}/transcript?format=vtt`)).text();
      expect(vtt.startsWith('WEBVTT')).toBe(true);

      const text = await server.metrics.registry.metrics();
      expect(text).toMatch(/earshot_audio_input_seconds_total [1-9]/);
      expect(text).toMatch(/earshot_asr_latency_seconds_count 2/);
      expect(text).toMatch(/earshot_end_of_utterance_delay_seconds_count 2/);
      expect(text).toMatch(/earshot_time_to_first_token_seconds_count 2/);
      expect(text).toMatch(/earshot_tokens_per_second_count 2/);
      expect(text).toMatch(/earshot_vad_window_seconds_count [1-9]/);
      expect(text).toMatch(/earshot_sessions_active 1/);
      await c.close();
      await holdsWithin(() => !(server.sessions.size > 0), 4000); // bounded: the test's own expectations say if it never settled
    } finally {
      await server.close();
    }
    // Flushed and closed: another process (here: a new handle) sees everything.
    const store = TranscriptStore.open({ path });
    try {
      const session = store.getSession(sessionId);
      expect(session).toMatchObject({ type: 'realtime', endReason: 'client_closed' });
      expect(store.getUtterances(sessionId).every((u) => u.transcript !== null)).toBe(true);
    } finally {
      store.close();
    }
  }, 30_000);

  it('a failing database is reported to the session once (E_STORE) and counted; serving goes on', async () => {
    const server = await startTestServer({}, { engine: new ScriptedEngine() });
    try {
      const c = await TestClient.connect(server.url);
      await use16kBinary(c);
      // Simulate the disk going away under the server: every write fails from now on.
      (server.store as unknown as { db: { close(): void } }).db.close();
      streamPcm16k(c, speech());
      await c.waitFor(() => c.ofType('response.done').length === 2, 20_000);
      expect(c.ofType('error').map((e) => (e.error as { code: string }).code)).toEqual(['E_STORE']);
      expect(ids(c, 'conversation.item.input_audio_transcription.completed')).toHaveLength(2);
      expect(await server.metrics.registry.getSingleMetricAsString('earshot_store_write_errors_total')).toMatch(
        /} [1-9]/,
      );
      // Reads answer 503, not a crash.
      expect((await fetch(`${server.httpUrl}/v1/sessions`)).status).toBe(503);
    } finally {
      await server.close().catch(() => undefined);
    }
  }, 30_000);
});

describe('graceful shutdown', () => {
  /** An engine whose answers take `stepMs` per token (captions are immediate). */
  function slowEngine(answer: string, stepMs: number) {
    return new ScriptedEngine({
      answer: () => answer,
      beforeStep: ({ kind }) => new Promise((r) => (kind === 'answer' ? setTimeout(r, stepMs) : setImmediate(r))),
    });
  }

  it('stops admitting (503 E_DRAINING), lets the running response finish, flushes the store, closes with 1001', async () => {
    const path = join(dir, 'shutdown.sqlite');
    const engine = slowEngine('One two three four five six.', 150);
    const server = await startTestServer({ store: { path } }, { engine });
    const c = await TestClient.connect(server.url);
    const sessionId = (c.events[0].session as { id: string }).id;
    await use16kBinary(c);
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [400, 1200] }).samples16k);
    await c.waitFor((e) => e.type === 'response.created', 20_000);
    const stopped = server.shutdown({ graceMs: 10_000 });
    expect(server.isReady()).toBe(false);
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(server.url);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('open', () => reject(new Error('admitted while draining')));
      ws.once('error', () => undefined);
    });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'E_DRAINING' } });
    expect(c.closeCode).toBeNull();
    expect(server.sessions.inFlightResponses).toBe(1);
    await stopped;
    expect(await c.closed).toBe(1001);
    const done = c.ofType('response.done');
    expect(done.map((e) => (e.response as { status: string }).status)).toEqual(['completed']);
    const store = TranscriptStore.open({ path });
    try {
      expect(store.getSession(sessionId)?.endReason).toBe('shutdown');
      expect(store.getSessionDetail(sessionId)?.responses.map((r) => r.status)).toEqual(['completed']);
    } finally {
      store.close();
    }
  }, 30_000);

  it('at the deadline a response still running is cancelled, then connections close with 1001', async () => {
    const engine = slowEngine(Array.from({ length: 60 }, (_, i) => `word${i}`).join(' '), 100);
    const server = await startTestServer({}, { engine });
    const c = await TestClient.connect(server.url);
    await use16kBinary(c);
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [400, 1200] }).samples16k);
    await c.waitFor((e) => e.type === 'response.created', 20_000);
    const t0 = performance.now();
    await server.shutdown({ graceMs: 300 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(await c.closed).toBe(1001);
    expect(c.ofType('response.done').map((e) => (e.response as { status: string }).status)).toEqual(['cancelled']);
  }, 30_000);
});
