// A long realtime session stays healthy (tiny ONNX model in an EngineHost worker, real server socket, real
// SQLite store): a failure injected into a caption, an answer, a context rebuild, the first step after a
// rebuild, or a worker crash gives the client today's failure events, is stored with the
// utterance, and the next three turns complete and are stored. Usage adds up over several rebuilds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import type { FaultSpec } from '../../../src/engine/fault_injection.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../../src/main.ts';
import { LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { streamPcm16k, use16kBinary } from './agent_server.ts';

const BUDGET_TOKENS = 1024;
let host: EngineHost;
let server: RunningServer;
const engineLogs: string[] = [];

beforeAll(async () => {
  const log = {
    info: (_d: object, m: string) => engineLogs.push(m),
    warn: (_d: object, m: string) => engineLogs.push(m),
    error: () => undefined,
  };
  host = createEngineHost({
    modelDir: await ensureFixtureModel('tiny'),
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    log,
  });
  await host.ready;
  server = await startTestServer(
    { engine: { context_budget_tokens: BUDGET_TOKENS }, agent: { caption_max_tokens: 8 } },
    { engine: host },
  );
}, 300_000);

afterAll(async () => {
  await server?.close();
  await host?.close();
});

const utterance = (i: number) =>
  placeWithGaps({ clips: [LIBRIVOX_CLIPS[i % LIBRIVOX_CLIPS.length]], gapsMs: [300, 1200] }).samples16k;

interface Turn {
  itemId: string;
  response: { id: string; status: string; usage: Usage | null } | undefined;
}
interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_token_details: { text_tokens: number; audio_tokens: number; cached_tokens?: number };
}

/** Streams one utterance and waits until it is committed, captioned (or failed) and answered. */
async function turn(c: TestClient, i: number, respond = true): Promise<Turn> {
  const committedBefore = c.ofType('input_audio_buffer.committed').length;
  streamPcm16k(c, utterance(i));
  const committed = await c.waitFor(
    (e) =>
      e.type === 'input_audio_buffer.committed' && c.ofType('input_audio_buffer.committed').length > committedBefore,
    60_000,
  );
  const itemId = committed.item_id as string;
  if (!respond) {
    await c.waitFor(
      (e) =>
        e.type.startsWith('conversation.item.input_audio_transcription.') &&
        e.type !== 'conversation.item.input_audio_transcription.delta' &&
        e.item_id === itemId,
      60_000,
    );
    return { itemId, response: undefined };
  }
  const created = await c.waitFor(
    (e) => e.type === 'response.created' && c.events.indexOf(e) > c.events.indexOf(committed),
    60_000,
  );
  const id = (created.response as { id: string }).id;
  const done = await c.waitFor((e) => e.type === 'response.done' && (e.response as { id: string }).id === id, 120_000);
  return { itemId, response: done.response as Turn['response'] };
}

function storedSession(c: TestClient) {
  const created = c.ofType('session.created')[0].session as { id: string };
  return server.store.getSessionDetail(created.id)!;
}

function expectUsageAddsUp(u: Usage): void {
  for (const v of [
    u.input_tokens,
    u.output_tokens,
    u.input_token_details.text_tokens,
    u.input_token_details.audio_tokens,
    u.input_token_details.cached_tokens ?? 0,
  ]) {
    expect(v).toBeGreaterThanOrEqual(0);
  }
  expect(u.input_token_details.text_tokens + u.input_token_details.audio_tokens).toBe(u.input_tokens);
  expect(u.input_token_details.cached_tokens ?? 0).toBeLessThanOrEqual(u.input_tokens);
  expect(u.total_tokens).toBe(u.input_tokens + u.output_tokens);
}

/** The next three turns complete: transcribed, answered, stored. */
async function expectHealthy(c: TestClient, from: number): Promise<void> {
  for (let i = from; i < from + 3; i++) {
    const t = await turn(c, i);
    // The tiny model never stops by itself: its answers end at max_output_tokens ('incomplete').
    expect(t.response?.status).toBe('incomplete');
    const completed = c
      .ofType('conversation.item.input_audio_transcription.completed')
      .find((e) => e.item_id === t.itemId);
    expect(completed).toBeDefined();
    const stored = storedSession(c);
    expect(stored.utterances.find((u) => u.itemId === t.itemId)).toMatchObject({
      transcript: completed!.transcript,
      transcriptionError: null,
    });
    expect(stored.responses.find((r) => r.id === t.response!.id)).toMatchObject({
      status: 'incomplete',
      inputItemId: t.itemId,
    });
  }
}

/** Every failure the client was told of is stored: a failed caption with its utterance, a failed answer's row. */
function expectFailuresStored(c: TestClient): void {
  const stored = storedSession(c);
  for (const e of c.ofType('conversation.item.input_audio_transcription.failed')) {
    const code = (e.error as { code: string }).code;
    expect(
      JSON.parse(stored.utterances.find((u) => u.itemId === e.item_id)?.transcriptionError ?? 'null'),
    ).toMatchObject({ code });
  }
  for (const e of c.ofType('response.done').filter((x) => (x.response as { status: string }).status === 'failed')) {
    expect(stored.responses.find((r) => r.id === (e.response as { id: string }).id)?.status).toBe('failed');
  }
}

async function armed(fault: FaultSpec): Promise<number> {
  return (await host.injectFault(fault)).fired;
}

describe('a failed turn is rolled back and the session goes on', () => {
  it('a caption fails: transcription.failed, stored with the utterance; the answer and the next three turns complete', async () => {
    const c = await TestClient.connect(server.url);
    await use16kBinary(c, { max_output_tokens: 8 });
    await turn(c, 0);
    const fired = await armed({ graph: 'embedding' });
    const t = await turn(c, 1);
    expect((await host.injectFault()).fired).toBe(fired + 1);
    const failed = c
      .ofType('conversation.item.input_audio_transcription.failed')
      .find((e) => e.item_id === t.itemId) as ReceivedEvent & { error: { code: string; message: string } };
    expect(failed.error.code).toBe('E_ENGINE');
    expect(
      JSON.parse(storedSession(c).utterances.find((u) => u.itemId === t.itemId)!.transcriptionError!),
    ).toMatchObject({ code: 'E_ENGINE' });
    // The transcript API shows the stored failure with the utterance.
    const sessionId = (c.ofType('session.created')[0].session as { id: string }).id;
    const api = (await (await fetch(`${server.httpUrl}/v1/sessions/${sessionId}/transcript`)).json()) as {
      utterances: { item_id: string; transcription_error: unknown }[];
    };
    expect(api.utterances.find((u) => u.item_id === t.itemId)?.transcription_error).toEqual({
      code: 'E_ENGINE',
      message: failed.error.message,
    });
    expect(t.response?.status).toBe('incomplete');
    await expectHealthy(c, 2);
    expect(c.ofType('error')).toEqual([]);
    await c.close();
  });

  // A failed tool step is covered with a scripted engine (test/unit/agent/tool_step_failure.test.ts): the
  // tiny model never writes a readable call, and an unreadable one is shown as text and never run, so with
  // this model no tool result is ever prefilled (a fault armed for it would never fire).
  const answerFaults: { name: string; fault: FaultSpec; session?: Record<string, unknown> }[] = [
    { name: 'an answer fails mid-generation', fault: { graph: 'embedding', afterDecode: true } },
  ];
  for (const f of answerFaults) {
    it(`${f.name}: response.done failed, stored; the next three turns complete`, async () => {
      const c = await TestClient.connect(server.url);
      await use16kBinary(c, { max_output_tokens: 8, ...f.session });
      await turn(c, 0);
      // The caption runs first: this turn is only answered, so the fault lands in the answer.
      c.send({ type: 'session.update', session: { audio: { input: { transcription: null } } } });
      await c.roundTrip();
      const fired = await armed(f.fault);
      const t = await turn(c, 1);
      expect((await host.injectFault()).fired).toBe(fired + 1);
      expect(t.response?.status).toBe('failed');
      expect(storedSession(c).responses.find((r) => r.id === t.response!.id)).toMatchObject({
        status: 'failed',
        inputItemId: t.itemId,
      });
      c.send({
        type: 'session.update',
        session: { audio: { input: { transcription: { model: 'whisper-1' } } }, tools: [], tool_choice: 'auto' },
      });
      await c.roundTrip();
      await expectHealthy(c, 2);
      expectFailuresStored(c);
      await c.close();
    });
  }

  for (const when of ['rebuild', 'afterRebuild'] as const) {
    it(`${when === 'rebuild' ? 'a context rebuild fails' : 'the first step after a rebuild fails'}: the failure is reported and stored, and the next three turns complete`, async () => {
      const c = await TestClient.connect(server.url);
      await use16kBinary(c, { max_output_tokens: 16 });
      const fired = await armed({ graph: when === 'rebuild' ? 'text' : 'embedding', when });
      let i = 0;
      while ((await host.injectFault()).fired === fired && i < 40) await turn(c, i++);
      expect((await host.injectFault()).fired).toBe(fired + 1);
      const failures =
        c.ofType('conversation.item.input_audio_transcription.failed').length +
        c.ofType('response.done').filter((e) => (e.response as { status: string }).status === 'failed').length;
      expect(failures).toBe(1);
      // The failure is stored with its utterance: the caption's error, or the answer's failed row.
      const stored = storedSession(c);
      const failedCaption = c.ofType('conversation.item.input_audio_transcription.failed')[0];
      if (failedCaption)
        expect(
          JSON.parse(stored.utterances.find((u) => u.itemId === failedCaption.item_id)!.transcriptionError!),
        ).toMatchObject({ code: 'E_ENGINE' });
      else expect(stored.responses.filter((r) => r.status === 'failed').map((r) => r.inputItemId)).toHaveLength(1);
      await expectHealthy(c, i);
      expectFailuresStored(c);
      await c.close();
    });
  }

  it('the engine worker crashes mid-turn: failure events, then the next three turns complete on the new worker', async () => {
    const c = await TestClient.connect(server.url);
    await use16kBinary(c, { max_output_tokens: 8 });
    await turn(c, 0);
    const restarts = host.restarts;
    const committedBefore = c.ofType('input_audio_buffer.committed').length;
    streamPcm16k(c, utterance(1));
    const crashed = await c.waitFor(
      (e) =>
        e.type === 'input_audio_buffer.committed' && c.ofType('input_audio_buffer.committed').length > committedBefore,
      60_000,
    );
    await host.terminateWorker();
    expect(host.restarts).toBe(restarts + 1);
    await host.ready;
    // The crashed turn ends one way or another: its answer's response.done (failed or not, after a failed
    // caption or none) or an error event. Waited for, so that its answer is not taken for the next turn's.
    await c.waitFor(
      (e) => (e.type === 'response.done' || e.type === 'error') && c.events.indexOf(e) > c.events.indexOf(crashed),
      120_000,
    );
    await expectHealthy(c, 2);
    expectFailuresStored(c);
    await c.close();
  });
});

describe('usage adds up over a long session', () => {
  it('every response.done and transcription usage: input = text + audio, cached <= input, nothing negative, over >= 3 rebuilds', async () => {
    const rebuiltBefore = engineLogs.filter((m) => m === 'engine session context rebuilt').length;
    const c = await TestClient.connect(server.url);
    await use16kBinary(c, { max_output_tokens: 24 });
    for (let i = 0; i < 14; i++) await turn(c, i);
    expect(
      engineLogs.filter((m) => m === 'engine session context rebuilt').length - rebuiltBefore,
    ).toBeGreaterThanOrEqual(3);
    const usages = [
      ...c.ofType('response.done').map((e) => (e.response as { usage: Usage }).usage),
      ...c.ofType('conversation.item.input_audio_transcription.completed').map((e) => e.usage as Usage),
    ];
    expect(usages).toHaveLength(28);
    for (const u of usages) expectUsageAddsUp(u);
    // A response attends to at most the budget, and never to less audio than its own turn holds.
    for (const e of c.ofType('response.done'))
      expect((e.response as { usage: Usage }).usage.input_tokens).toBeLessThanOrEqual(BUDGET_TOKENS);
    expect(
      c
        .ofType('response.done')
        .every((e) => (e.response as { usage: Usage }).usage.input_token_details.audio_tokens > 0),
    ).toBe(true);
    await c.close();
  });
});
