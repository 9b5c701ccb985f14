import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverSchema } from '../../../src/config/schema.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { TranscriptStore } from '../../../src/store/transcript_store.ts';
import { Authenticator, keyIdOf } from '../../../src/transport/auth.ts';
import { createServerRoutes } from '../../../src/transport/http_routes/index.ts';
import { RealtimeServer } from '../../../src/transport/ws_server.ts';

const KEY_A = 'sk-test-alpha-0123456789';
const KEY_B = 'sk-test-bravo-0123456789';

let dir: string;
let store: TranscriptStore;
let server: RealtimeServer;
let base: string;
let ready = false;
let nowMs = Date.now();
const auth = new Authenticator({ apiKeys: [KEY_A, KEY_B], nowMs: () => nowMs });
const metrics = createMetrics();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-routes-'));
  store = TranscriptStore.open({ path: join(dir, 'store.sqlite') });
  store.startSession({ id: 'sess_a1', keyId: keyIdOf(KEY_A), type: 'transcription', createdAtMs: 1_000 });
  store.commitUtterance({
    sessionId: 'sess_a1',
    itemId: 'item_1',
    startMs: 500,
    endMs: 2_250,
    committedAtMs: 3_000,
    transcript: 'Bonjour & welcome.',
    translation: 'Hello & welcome.',
  });
  store.commitUtterance({ sessionId: 'sess_a1', itemId: 'item_2', startMs: 3_000, endMs: 4_000, committedAtMs: 4_500 }); // transcript pending
  store.commitUtterance({
    sessionId: 'sess_a1',
    itemId: 'item_3',
    startMs: 65_000,
    endMs: 67_500,
    committedAtMs: 68_000,
    transcript: 'Second <line>',
  });
  store.commitUtterance({
    sessionId: 'sess_a1',
    itemId: 'item_4',
    startMs: 68_000,
    endMs: 69_000,
    committedAtMs: 69_500,
  }); // caption failed
  store.setUtteranceError('item_4', { code: 'E_ENGINE', message: 'The embedding graph failed' });
  store.endSession('sess_a1', 'client_closed', 70_000);
  store.startSession({ id: 'sess_b1', keyId: keyIdOf(KEY_B), type: 'realtime', createdAtMs: 2_000 });
  metrics.sessionsRejected.inc({ reason: 'max_sessions' });
  server = new RealtimeServer({
    config: serverSchema.parse({ host: '127.0.0.1', port: 0 }),
    log: createLogger('silent'),
    openSocket: () => ({ handleText() {}, handleBinary() {}, dispose() {} }),
    routes: createServerRoutes({
      auth,
      metrics,
      store,
      isReady: () => ready,
      describeSession: (s) => ({ object: 'realtime.session', type: s.type ?? 'realtime', id: 'sess_described' }),
    }),
  });
  const address = await server.listen();
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await server?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, key?: string) =>
  fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('health, metrics, sessions and agents HTTP routes on a real server', () => {
  it('no API route answers without a valid key', async () => {
    for (const path of [
      '/v1/sessions',
      '/v1/sessions/sess_a1',
      '/v1/sessions/sess_a1/transcript?format=vtt',
      '/metrics',
    ]) {
      for (const key of [undefined, 'sk-wrong-wrong-wrong-wrong']) {
        const res = await get(path, key);
        expect(res.status, `${path} with ${key}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
        expect(await res.json()).toMatchObject({ error: { code: 'E_UNAUTHORIZED' } });
      }
    }
    const post = await fetch(base + '/v1/realtime/client_secrets', { method: 'POST', body: '{}' });
    expect(post.status).toBe(401);
    expect((await get('/v1/sessions', KEY_A)).status).toBe(200);
  });

  it("lists only the caller key's sessions; another key's session is 404", async () => {
    const list = await (await get('/v1/sessions', KEY_A)).json();
    expect(list).toEqual({
      object: 'list',
      data: [
        {
          id: 'sess_a1',
          object: 'earshot.session',
          type: 'transcription',
          model: null,
          key_id: keyIdOf(KEY_A),
          created_at_ms: 1_000,
          ended_at_ms: 70_000,
          end_reason: 'client_closed',
        },
      ],
      has_more: false,
      first_id: 'sess_a1',
      last_id: 'sess_a1',
    });
    expect((await get('/v1/sessions/sess_b1', KEY_A)).status).toBe(404);
    expect((await get('/v1/sessions/sess_b1/transcript', KEY_A)).status).toBe(404);
    expect((await get('/v1/sessions/sess_b1', KEY_B)).status).toBe(200);
    const detail = (await (await get('/v1/sessions/sess_a1', KEY_A)).json()) as {
      utterances: { item_id: string; transcription_error: unknown }[];
    };
    expect(detail.utterances.map((u: { item_id: string }) => u.item_id)).toEqual([
      'item_1',
      'item_2',
      'item_3',
      'item_4',
    ]);
    // A failed caption shows its stored failure; a pending or transcribed one shows null.
    expect(detail.utterances.map((u) => u.transcription_error)).toEqual([
      null,
      null,
      null,
      { code: 'E_ENGINE', message: 'The embedding graph failed' },
    ]);
    expect(detail).toMatchObject({ responses: [], tool_calls: [] });
  });

  it('transcript in json, vtt, srt and txt, exactly', async () => {
    const json = await get('/v1/sessions/sess_a1/transcript', KEY_A);
    expect(await json.json()).toEqual({
      session_id: 'sess_a1',
      utterances: [
        {
          item_id: 'item_1',
          start_ms: 500,
          end_ms: 2250,
          transcript: 'Bonjour & welcome.',
          translation: 'Hello & welcome.',
          language: null,
          transcription_error: null,
        },
        {
          item_id: 'item_2',
          start_ms: 3000,
          end_ms: 4000,
          transcript: null,
          translation: null,
          language: null,
          transcription_error: null,
        },
        {
          item_id: 'item_3',
          start_ms: 65000,
          end_ms: 67500,
          transcript: 'Second <line>',
          translation: null,
          language: null,
          transcription_error: null,
        },
        {
          item_id: 'item_4',
          start_ms: 68000,
          end_ms: 69000,
          transcript: null,
          translation: null,
          language: null,
          transcription_error: { code: 'E_ENGINE', message: 'The embedding graph failed' },
        },
      ],
    });
    const vtt = await get('/v1/sessions/sess_a1/transcript?format=vtt', KEY_A);
    expect(vtt.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    expect(await vtt.text()).toBe(
      'WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.250\nBonjour &amp; welcome.\n\n2\n00:01:05.000 --> 00:01:07.500\nSecond &lt;line&gt;\n',
    );
    const srt = await get('/v1/sessions/sess_a1/transcript?format=srt', KEY_A);
    expect(srt.headers.get('content-type')).toBe('application/x-subrip; charset=utf-8');
    expect(await srt.text()).toBe(
      '1\n00:00:00,500 --> 00:00:02,250\nBonjour & welcome.\n\n2\n00:01:05,000 --> 00:01:07,500\nSecond <line>\n',
    );
    const txt = await get('/v1/sessions/sess_a1/transcript?format=txt', KEY_A);
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await txt.text()).toBe('Bonjour & welcome.\nSecond <line>\n');
    expect(await (await get('/v1/sessions/sess_a1/transcript?format=txt&track=translation', KEY_A)).text()).toBe(
      'Hello & welcome.\n',
    );
  });

  it('refuses malformed queries, paths and methods', async () => {
    expect(await (await get('/v1/sessions/sess_a1/transcript?format=docx', KEY_A)).json()).toMatchObject({
      error: { code: 'E_INVALID_REQUEST', param: 'format' },
    });
    expect((await get('/v1/sessions?limit=0', KEY_A)).status).toBe(400);
    expect((await get('/v1/sessions?limit=1e3', KEY_A)).status).toBe(400);
    expect((await get('/v1/sessions?after=..%2F..', KEY_A)).status).toBe(400);
    expect((await get('/v1/sessions/..%2F..%2Fetc%2Fpasswd', KEY_A)).status).toBe(404);
    expect((await get('/v1/sessions/' + 'x'.repeat(500), KEY_A)).status).toBe(404);
    const del = await fetch(base + '/v1/sessions/sess_a1', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET');
  });

  it('/metrics exposes every issue-8 metric', async () => {
    const res = await get('/metrics', KEY_A);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of [
      'earshot_sessions_active',
      'earshot_sessions_total',
      'earshot_sessions_rejected_total',
      'earshot_audio_input_seconds_total',
      'earshot_vad_window_seconds',
      'earshot_end_of_utterance_delay_seconds',
      'earshot_asr_latency_seconds',
      'earshot_time_to_first_token_seconds',
      'earshot_tokens_per_second',
      'earshot_engine_queue_depth',
      'earshot_kv_cache_bytes',
      'earshot_errors_total',
      'earshot_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('earshot_sessions_rejected_total{reason="max_sessions"} 1');
  });

  it('/readyz flips with isReady(), without a key', async () => {
    ready = false;
    const before = await get('/readyz');
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'not_ready' });
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('client_secrets through the openai package: { value, expires_at, session }', async () => {
    const client = new OpenAI({ apiKey: KEY_A, baseURL: `${base}/v1`, maxRetries: 0 });
    const secret = await client.realtime.clientSecrets.create({
      expires_after: { anchor: 'created_at', seconds: 120 },
      session: { type: 'transcription' },
    });
    expect(secret.value).toMatch(/^ek_/);
    expect(secret.expires_at).toBe(Math.floor((nowMs + 120_000) / 1000));
    expect(secret.session).toEqual({ object: 'realtime.session', type: 'transcription', id: 'sess_described' });
    const upgrade = { headers: { 'sec-websocket-protocol': `realtime, openai-insecure-api-key.${secret.value}` } };
    expect(auth.authorizeUpgrade(upgrade)).toMatchObject({
      ok: true,
      identity: { kind: 'ephemeral', keyId: keyIdOf(KEY_A), ephemeral: { session: { type: 'transcription' } } },
    });
    // An ephemeral key reads no transcripts and mints no keys.
    expect((await get('/v1/sessions', secret.value)).status).toBe(401);
    const again = new OpenAI({ apiKey: secret.value, baseURL: `${base}/v1`, maxRetries: 0 });
    await expect(again.realtime.clientSecrets.create({})).rejects.toMatchObject({ status: 401 });
    nowMs += 120_000;
    expect(auth.authorizeUpgrade(upgrade)).toMatchObject({ ok: false, status: 401 });
  });

  it('client_secrets refuses bad TTLs, malformed and oversized bodies', async () => {
    const post = (body: string) =>
      fetch(base + '/v1/realtime/client_secrets', {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${KEY_B}`, 'content-type': 'application/json' },
      });
    expect(await (await post('{"expires_after":{"seconds":5}}')).json()).toMatchObject({
      error: { code: 'E_INVALID_REQUEST', param: 'expires_after.seconds' },
    });
    expect((await post('{"expires_after":')).status).toBe(400);
    expect((await post('{"session":{"type":"video"}}')).status).toBe(400);
    expect((await post(JSON.stringify({ session: { instructions: 'x'.repeat(300 * 1024) } }))).status).toBe(413);
    const ok = await post('');
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { expires_at: number };
    expect(body.expires_at).toBe(Math.floor(nowMs / 1000) + 600);
    expect(
      (await fetch(base + '/v1/realtime/client_secrets', { headers: { authorization: `Bearer ${KEY_B}` } })).status,
    ).toBe(405);
  });

  it('fuzzed paths, queries and auth headers never produce a 5xx', async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_%.\-~]{0,40}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/sessions',
          '/v1/sessions/sess_a1',
          '/v1/sessions/sess_a1/transcript',
          '/metrics',
          '/readyz',
          '/v1/realtime/client_secrets',
        ),
        segment,
        fc.string({ maxLength: 60 }),
        fc.constantFrom(KEY_A, undefined, 'ek_x', ''),
        async (path, extra, query, key) => {
          const res = await fetch(
            `${base}${path}${extra ? '/' + extra : ''}?${encodeURIComponent(query).replace(/%3D/g, '=').replace(/%26/g, '&')}`,
            {
              headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
            },
          );
          await res.arrayBuffer();
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a failing store answers 503 with E_STORE; the server keeps serving', async () => {
    store.close();
    const res = await get('/v1/sessions/sess_a1', KEY_A);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 'E_STORE' } });
    expect((await get('/readyz')).status).toBe(200);
  });
});
