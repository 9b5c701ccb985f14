import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { startAgentServer, streamPcm16k, use16kBinary } from './agent_server.ts';

// The agent runtime through the real server and WebSocket, with a scripted engine: client-tool rounds,
// spoken turns with captions before answers, barge-in, transcription sessions, agent selection.

let gate: { blocked: Promise<void>; release: () => void } | null = null;
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${pcm.length} samples`,
  answer: (ctx) => {
    const text = ctx.lastUser?.text ?? '';
    if (text === 'where am I?') {
      return ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "get_location", "arguments": {}}]<|/tool_call|>'
        : `You are in ${JSON.parse(ctx.toolResponses[0]).city}.`;
    }
    if (text === 'what time is it?')
      return ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "get_time", "arguments": {"time_zone": "UTC"}}]<|/tool_call|>'
        : 'Here is the time.';
    return `Answer to ${ctx.heard ?? text}. ${'More words follow here. '.repeat(6)}`.trim();
  },
  beforeStep: ({ step, kind }) =>
    kind === 'answer' && step === 3 && gate ? gate.blocked : new Promise((r) => setImmediate(r)),
});

let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine);
});
afterAll(async () => {
  await server.close();
});

const idx = (events: ReceivedEvent[], pred: (e: ReceivedEvent) => boolean) => events.findIndex(pred);

describe('over the WebSocket with a scripted engine', () => {
  it('a client-tool round: function_call item, then function_call_output + response.create', async () => {
    const c = await TestClient.connect(server.url);
    c.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        tools: [
          {
            type: 'function',
            name: 'get_location',
            description: 'where the user is',
            parameters: { type: 'object', properties: {} },
          },
        ],
      },
    });
    await c.roundTrip();
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where am I?' }] },
    });
    c.send({ type: 'response.create' });
    const first = await c.waitFor((e) => e.type === 'response.done');
    const call = (first.response as { output: { type: string; call_id: string; name: string; status: string }[] })
      .output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_location', status: 'completed' });
    expect(c.ofType('response.function_call_arguments.done')[0]).toMatchObject({
      call_id: call.call_id,
      arguments: '{}',
    });
    const from = c.events.length;
    c.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: call.call_id, output: '{"city":"Lyon"}' },
    });
    c.send({ type: 'response.create' });
    const second = await c.waitFor((e) => e.type === 'response.done', 10_000, from);
    expect(second.response).toMatchObject({ status: 'completed' });
    expect(
      c.events
        .slice(from)
        .filter((e) => e.type === 'response.output_text.delta')
        .map((e) => e.delta)
        .join(''),
    ).toBe('You are in Lyon.');
    expect(c.ofType('error')).toEqual([]);
    await c.close();
  });

  it('server tools run on the server and are reported with their output', async () => {
    const c = await TestClient.connect(`${server.url}?agent=assistant`);
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what time is it?' }] },
    });
    c.send({ type: 'response.create' });
    const done = await c.waitFor((e) => e.type === 'response.done');
    const output = (done.response as { output: { type: string; output?: string }[] }).output;
    expect(output.map((o) => o.type)).toEqual(['function_call', 'function_call_output', 'message']);
    expect(JSON.parse(output[1].output!)).toMatchObject({ time_zone: 'UTC' });
    await c.close();
  });

  it('spoken turns: per utterance speech events, commit, caption, then the answer; barge-in cancels', async () => {
    const c = await TestClient.connect(server.url);
    await use16kBinary(c);
    // The second utterance is sent once the first is answered: audio streams faster than real time, so
    // sending both at once would make the second one barge in on the first answer (tested below).
    streamPcm16k(c, placeWithGaps({ clips: [LIBRIVOX_CLIPS[0]], gapsMs: [600, 1500] }).samples16k);
    await c.waitFor((e) => e.type === 'response.done', 30_000);
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[1]], gapsMs: [300, 1200] }).samples16k);
    await c.waitFor((e) => e.type === 'response.done' && c.ofType('response.done').length === 2, 30_000);
    const items = c.ofType('input_audio_buffer.committed').map((e) => e.item_id as string);
    expect(items).toHaveLength(2);
    for (const [turn, itemId] of items.entries()) {
      const ev = c.events;
      const started = idx(ev, (e) => e.type === 'input_audio_buffer.speech_started' && e.item_id === itemId);
      const stopped = idx(ev, (e) => e.type === 'input_audio_buffer.speech_stopped' && e.item_id === itemId);
      const committed = idx(ev, (e) => e.type === 'input_audio_buffer.committed' && e.item_id === itemId);
      const completed = idx(
        ev,
        (e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === itemId,
      );
      const responseId = (c.ofType('response.created')[turn].response as { id: string }).id;
      const firstDelta = idx(ev, (e) => e.type === 'response.output_text.delta' && e.response_id === responseId);
      const done = idx(ev, (e) => e.type === 'response.done' && (e.response as { id: string }).id === responseId);
      expect(started).toBeGreaterThanOrEqual(0);
      expect([started, stopped, committed, completed, firstDelta, done]).toEqual(
        [...[started, stopped, committed, completed, firstDelta, done]].sort((a, b) => a - b),
      );
      expect(ev[completed].transcript).toMatch(/^heard \d+ samples$/);
      expect((ev[done].response as { status: string }).status).toBe('completed');
    }
    await c.close();
  });

  it('barge-in: speech during an answer cancels it with reason turn_detected', async () => {
    let release!: () => void;
    gate = { blocked: new Promise<void>((r) => (release = r)), release: () => release() };
    const c = await TestClient.connect(server.url);
    await use16kBinary(c);
    const first = placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 900] });
    streamPcm16k(c, first.samples16k);
    await c.waitFor((e) => e.type === 'response.output_text.delta', 20_000);
    const second = placeWithGaps({ clips: [LIBRIVOX_CLIPS[1]], gapsMs: [300, 900] });
    streamPcm16k(c, second.samples16k);
    await c.waitFor(
      (e) =>
        e.type === 'input_audio_buffer.speech_stopped' && c.ofType('input_audio_buffer.speech_stopped').length === 2,
      20_000,
    );
    gate.release();
    gate = null;
    const done = await c.waitFor((e) => e.type === 'response.done', 20_000);
    expect(done.response).toMatchObject({
      status: 'cancelled',
      status_details: { type: 'cancelled', reason: 'turn_detected' },
    });
    // The interrupted answer kept only what was sent: 3 decode steps.
    const responseId = (done.response as { id: string }).id;
    const said = c.events
      .filter((e) => e.type === 'response.output_text.delta' && e.response_id === responseId)
      .map((e) => e.delta)
      .join('');
    expect(said.split(' ').length).toBe(3);
    // The second utterance is then answered.
    await c.waitFor((e) => e.type === 'response.done' && c.ofType('response.done').length === 2, 20_000);
    expect((c.ofType('response.done')[1].response as { status: string }).status).toBe('completed');
    await c.close();
  });

  it('a transcription session (?intent=transcription) yields captions and no responses', async () => {
    const c = await TestClient.connect(`${server.url}?intent=transcription`);
    await use16kBinary(c);
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[2]], gapsMs: [500, 1200] }).samples16k);
    await c.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.completed', 20_000);
    c.send({ type: 'response.create' });
    const err = await c.waitFor((e) => e.type === 'error');
    expect(err.error).toMatchObject({ code: 'E_UNSUPPORTED_FEATURE' });
    expect(c.events.some((e) => e.type.startsWith('response.'))).toBe(false);
    await c.close();
  });

  it('?agent=captioner makes a transcription session; an unknown agent is an error event; session.agent switches', async () => {
    const cap = await TestClient.connect(`${server.url}?agent=captioner`);
    expect((cap.events[0].session as { type: string }).type).toBe('transcription');
    await cap.close();
    const bad = await TestClient.connect(`${server.url}?agent=nobody`);
    expect((await bad.waitFor((e) => e.type === 'error')).error).toMatchObject({ code: 'E_AGENT_UNKNOWN' });
    bad.send({ type: 'session.update', session: { agent: 'trip-planner' } });
    await bad.waitFor((e) => e.type === 'session.updated');
    bad.send({ type: 'session.update', session: { agent: 'captioner' } });
    expect(
      (await bad.waitFor((e) => e.type === 'error' && (e.error as { param: string }).param === 'session.agent')).error,
    ).toMatchObject({ code: 'E_UNSUPPORTED_FEATURE' });
    bad.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    });
    bad.send({ type: 'response.create' });
    await bad.waitFor((e) => e.type === 'response.done');
    const system = engine.sessions.at(-1)!.log[0];
    expect(system).toMatchObject({
      role: 'system',
      tools: expect.arrayContaining([expect.objectContaining({ name: 'itinerary_add' })]),
    });
    await bad.close();
  });
});

describe('without a model', () => {
  it('turn events flow, captions fail with E_MODEL_MISSING, and response.create names the fix', async () => {
    const bare = await startAgentServer(null);
    try {
      const c = await TestClient.connect(bare.url);
      await use16kBinary(c);
      streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[3]], gapsMs: [500, 1000] }).samples16k);
      const failed = await c.waitFor((e) => e.type === 'conversation.item.input_audio_transcription.failed', 20_000);
      expect(failed.error).toMatchObject({
        code: 'E_MODEL_MISSING',
        message: expect.stringContaining('earshot model pull'),
      });
      expect(c.ofType('input_audio_buffer.committed')).toHaveLength(1);
      c.send({ type: 'response.create', event_id: 'ev1' });
      const err = await c.waitFor((e) => e.type === 'error');
      expect(err.error).toMatchObject({
        code: 'E_MODEL_MISSING',
        event_id: 'ev1',
        message: expect.stringContaining('--model DIR'),
      });
      await c.close();
    } finally {
      await bare.close();
    }
  });
});
