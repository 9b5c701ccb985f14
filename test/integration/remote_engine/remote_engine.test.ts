import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { RemoteEngine } from '../../../src/engine/remote/remote_engine.ts';
import type { RunningServer } from '../../../src/main.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from '../agent/agent_server.ts';

// Earshot B with engine.remote.url at Earshot A (the tiny generated model behind A's chat-completions
// API). B does turn detection, the Realtime protocol and the agent; every caption and answer is a
// streaming HTTP request to A.

let host: EngineHost;
let a: RunningServer;
let b: RunningServer;
let aPort = 0;

const startA = (port: number) =>
  startTestServer({ server: { port }, agent: { caption_max_tokens: 6 } }, { engine: host });

async function aMetric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${a.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  host = createEngineHost({ modelDir: await ensureFixtureModel('tiny'), intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
  a = await startA(0);
  aPort = a.address.port;
  b = await startTestServer({
    agent: { caption_max_tokens: 6 },
    engine: { remote: { url: a.httpUrl, max_retries: 1, retry_backoff_ms: 50, request_timeout_ms: 5000 } } as never,
  });
}, 300_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
  await host?.close();
});

describe('remote engine: Earshot B driving Earshot A over chat completions', () => {
  it('B runs on a RemoteEngine: a spoken turn gets its transcript and a streamed answer from A', async () => {
    expect(b.engine).toBeInstanceOf(RemoteEngine);
    const okBefore = await aMetric('earshot_api_requests_total', 'endpoint="chat_completions",outcome="ok"');
    const c = await TestClient.connect(b.url);
    await use16kBinary(c, { max_output_tokens: 6, instructions: 'Answer briefly.' });
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 1200] }).samples16k);
    const done = await c.waitFor((e) => e.type === 'response.done', 60_000);
    expect(c.ofType('error')).toEqual([]);
    const transcript = c.ofType('conversation.item.input_audio_transcription.completed')[0] as unknown as {
      transcript: string;
      usage: { input_token_details: { audio_tokens: number } };
    };
    expect(transcript.transcript.length).toBeGreaterThan(0);
    expect(transcript.usage.input_token_details.audio_tokens).toBeGreaterThan(0);
    const response = done.response as { status: string; usage: { output_tokens: number } };
    expect(['completed', 'incomplete']).toContain(response.status);
    expect(c.ofType('response.output_text.delta').length).toBeGreaterThan(0);
    expect(response.usage.output_tokens).toBeGreaterThan(0);
    // The caption and the answer were two requests to A.
    expect(
      await aMetric('earshot_api_requests_total', 'endpoint="chat_completions",outcome="ok"'),
    ).toBeGreaterThanOrEqual(okBefore + 2);
    await c.close();
  }, 120_000);

  it('barge-in on B aborts the generation on A (A counts an aborted request)', async () => {
    const abortedBefore = await aMetric('earshot_api_requests_total', 'endpoint="chat_completions",outcome="aborted"');
    const c = await TestClient.connect(b.url);
    await use16kBinary(c, { max_output_tokens: 3000, instructions: 'Talk for a long time.' });
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 900] }).samples16k);
    await c.waitFor((e) => e.type === 'response.output_text.delta', 60_000);
    streamPcm16k(c, placeWithGaps({ clips: [LIBRIVOX_CLIPS[1]], gapsMs: [300, 900] }).samples16k);
    const done = await c.waitFor((e) => e.type === 'response.done', 60_000);
    expect(done.response).toMatchObject({
      status: 'cancelled',
      status_details: { type: 'cancelled', reason: 'turn_detected' },
    });
    await expect
      .poll(() => aMetric('earshot_api_requests_total', 'endpoint="chat_completions",outcome="aborted"'), {
        timeout: 20_000,
      })
      .toBeGreaterThan(abortedBefore);
    await c.close();
  }, 120_000);

  it("A stopped: B's session gets E_ENGINE_REMOTE error events; A back on its port: the same session works again", async () => {
    const c = await TestClient.connect(b.url);
    await use16kBinary(c, { max_output_tokens: 6 });
    await a.close();
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[2]], gapsMs: [500, 1200] }).samples16k);
    const error = await c.waitFor(
      (e) => e.type === 'error' || e.type === 'conversation.item.input_audio_transcription.failed',
      60_000,
    );
    const code = (error as unknown as { error: { code: string } }).error.code;
    expect(code).toBe('E_ENGINE_REMOTE');
    await c.waitFor((e) => e.type === 'response.done', 60_000).catch(() => undefined);
    const errorsWhileDown = c.events.filter(
      (e) => (e as { error?: { code?: string } }).error?.code === 'E_ENGINE_REMOTE',
    ).length;
    expect(errorsWhileDown).toBeGreaterThan(0);

    a = await startA(aPort);
    const before = c.ofType('conversation.item.input_audio_transcription.completed').length;
    const responsesBefore = c.ofType('response.done').length;
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[3]], gapsMs: [500, 1200] }).samples16k);
    await c.waitFor(
      (e) =>
        e.type === 'conversation.item.input_audio_transcription.completed' &&
        c.ofType('conversation.item.input_audio_transcription.completed').length > before,
      60_000,
    );
    const done = await c.waitFor(
      (e) => e.type === 'response.done' && c.ofType('response.done').length > responsesBefore,
      60_000,
    );
    expect(['completed', 'incomplete']).toContain((done.response as { status: string }).status);
    await c.close();
  }, 180_000);
});
