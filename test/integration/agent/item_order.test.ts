import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32ToPcm16Bytes } from '../../../src/audio/pcm.ts';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { startAgentServer } from './agent_server.ts';

// Client events take effect in arrival order, over a raw WebSocket: chained conversation.item.create
// events sent back to back (each naming the item the one before creates), insertion in the middle and
// at the root (the engine session is rewound and the later turns re-appended), a call answered once,
// and the transcript-before-answer rule when audio arrives faster than real time or a manual commit is
// followed at once by response.create.

let slowAnswers = false;
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) =>
    ctx.toolResponses.length > 0
      ? `tool said ${ctx.toolResponses.at(-1)}`
      : `You said: ${ctx.heard ?? ctx.lastUser?.text ?? ''}`,
  // Slow answers (200 ms a token) let the next utterance be committed while an answer streams.
  beforeStep: ({ kind }) =>
    new Promise<void>((r) => (slowAnswers && kind === 'answer' ? setTimeout(r, 200) : setImmediate(r))),
});

let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine);
});
afterAll(async () => {
  await server.close();
});

const userText = (id: string, text: string) => ({
  type: 'message',
  id,
  role: 'user',
  content: [{ type: 'input_text', text }],
});

/** The conversation as a client rebuilds it from the server's events (each item after its previous_item_id). */
function conversationOrder(events: ReceivedEvent[]): string[] {
  const order: string[] = [];
  for (const e of events) {
    if (e.type === 'conversation.item.added') {
      const id = (e.item as { id: string }).id;
      const previous = e.previous_item_id as string | null;
      if (previous !== null && !order.includes(previous))
        throw new Error(`${id} follows ${previous}, which the client does not know`);
      order.splice(previous === null ? 0 : order.indexOf(previous) + 1, 0, id);
    } else if (e.type === 'conversation.item.deleted') order.splice(order.indexOf(e.item_id as string), 1);
  }
  return order;
}

/** What the engine session holds, one line per turn. */
const engineTurns = (session: ScriptedSession) =>
  session.log.slice(1).map((e) => `${e.role}: ${e.role === 'user' ? (e.transcript ?? e.text) : e.text}`);

describe('arrival order', () => {
  it('chained creates back to back, a call answered once, insertion in the middle and at the root', async () => {
    const c = await TestClient.connect(server.url);
    const call = { type: 'function_call', id: 'item_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' };
    // Five events in one burst: each create names the item the previous create adds.
    c.send({ type: 'conversation.item.create', item: userText('item_a', 'first') });
    c.send({ type: 'conversation.item.create', previous_item_id: 'item_a', item: userText('item_b', 'second') });
    c.send({ type: 'conversation.item.create', previous_item_id: 'item_b', item: call });
    c.send({
      type: 'conversation.item.create',
      previous_item_id: 'item_call',
      item: { type: 'function_call_output', id: 'item_out', call_id: 'call_1', output: '{"ok":true}' },
    });
    c.send({
      type: 'conversation.item.create',
      event_id: 'evt_again',
      item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":false}' },
    });
    c.send({ type: 'response.create' });
    const done = await c.waitFor((e) => e.type === 'response.done');
    const error = await c.waitFor((e) => e.type === 'error');
    expect(error.error).toMatchObject({ code: 'E_INVALID_EVENT', param: 'item.call_id', event_id: 'evt_again' });
    const assistantId = (done.response as { output: { id: string }[] }).output[0].id;
    expect(conversationOrder(c.events)).toEqual(['item_a', 'item_b', 'item_call', 'item_out', assistantId]);
    const session = engine.sessions.at(-1) as ScriptedSession;
    expect(engineTurns(session)).toEqual([
      'user: first',
      'user: second',
      'assistant: <|tool_call|>[{"name":"lookup","arguments":{"q":"x"}}]<|/tool_call|>',
      'tool: {"ok":true}',
      'assistant: tool said {"ok":true}',
    ]);

    // In the middle, then first: the same engine session, rewound to the insertion point.
    const sessions = engine.sessions.length;
    c.send({ type: 'conversation.item.create', previous_item_id: 'item_a', item: userText('item_mid', 'inserted') });
    c.send({ type: 'conversation.item.create', previous_item_id: 'root', item: userText('item_root', 'opening') });
    const root = await c.waitFor(
      (e) => e.type === 'conversation.item.added' && (e.item as { id: string }).id === 'item_root',
    );
    expect(root.previous_item_id).toBeNull();
    expect(conversationOrder(c.events)).toEqual([
      'item_root',
      'item_a',
      'item_mid',
      'item_b',
      'item_call',
      'item_out',
      assistantId,
    ]);
    expect(engine.sessions.length).toBe(sessions);
    expect(engineTurns(session)).toEqual([
      'user: opening',
      'user: first',
      'user: inserted',
      'user: second',
      'assistant: <|tool_call|>[{"name":"lookup","arguments":{"q":"x"}}]<|/tool_call|>',
      'tool: {"ok":true}',
      'assistant: tool said {"ok":true}',
    ]);
    // A create that names an item no event created is refused at once.
    c.send({
      type: 'conversation.item.create',
      event_id: 'evt_lost',
      previous_item_id: 'item_nowhere',
      item: userText('item_lost', 'lost'),
    });
    expect(
      (await c.waitFor((e) => e.type === 'error' && (e.error as { event_id: string }).event_id === 'evt_lost')).error,
    ).toMatchObject({ code: 'E_ITEM_NOT_FOUND', param: 'previous_item_id' });
    await c.close();
  });
});

/** For each response: every user audio item before its assistant item has its transcript completed before its first delta. */
function checkTranscriptsFirst(events: ReceivedEvent[]): number {
  const order = conversationOrder(events);
  const audioItems = new Set(
    events.filter((e) => e.type === 'input_audio_buffer.committed').map((e) => e.item_id as string),
  );
  let checked = 0;
  for (const created of events.filter((e) => e.type === 'response.created')) {
    const id = (created.response as { id: string }).id;
    const firstDelta = events.findIndex((e) => e.type === 'response.output_text.delta' && e.response_id === id);
    if (firstDelta < 0) continue;
    const itemId = events[firstDelta].item_id as string;
    const before = order.slice(0, order.indexOf(itemId)).filter((i) => audioItems.has(i));
    expect(before.length).toBeGreaterThan(0);
    for (const userItem of before) {
      const completed = events.findIndex(
        (e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === userItem,
      );
      expect(completed, `transcript of ${userItem} before response ${id}`).toBeGreaterThanOrEqual(0);
      expect(completed).toBeLessThan(firstDelta);
    }
    const added = events.find((e) => e.type === 'conversation.item.added' && (e.item as { id: string }).id === itemId)!;
    expect(added.previous_item_id).toBe(order[order.indexOf(itemId) - 1]);
    checked++;
  }
  return checked;
}

function pcm24kChunks(samples16k: Float32Array, chunkMs: number): string[] {
  // 16 kHz -> 24 kHz by linear interpolation: enough for the VAD, and no sox needed here.
  const out = new Float32Array(Math.floor((samples16k.length * 3) / 2));
  for (let i = 0; i < out.length; i++) {
    const x = (i * 2) / 3;
    const j = Math.floor(x);
    out[i] = samples16k[j] + (x - j) * ((samples16k[j + 1] ?? samples16k[j]) - samples16k[j]);
  }
  const bytes = float32ToPcm16Bytes(out);
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += chunkMs * 48)
    chunks.push(Buffer.from(bytes.subarray(i, Math.min(bytes.length, i + chunkMs * 48))).toString('base64'));
  return chunks;
}

describe('transcript before answer', () => {
  it('server VAD with audio at 4x real time: answers stream after the transcripts of the user audio before them', async () => {
    slowAnswers = true;
    try {
      const c = await TestClient.connect(server.url);
      c.send({
        type: 'session.update',
        session: {
          audio: {
            input: { turn_detection: { type: 'server_vad', silence_duration_ms: 400, interrupt_response: false } },
          },
        },
      });
      await c.waitFor((e) => e.type === 'session.updated');
      const speech = placeWithGaps({
        clips: [CARD_CLIPS[0], CARD_CLIPS[1], CARD_CLIPS[2]],
        gapsMs: [300, 700, 700, 1500],
      }).samples16k;
      // 100 ms of audio every 25 ms.
      for (const audio of pcm24kChunks(speech, 100)) {
        c.send({ type: 'input_audio_buffer.append', audio });
        await new Promise((r) => setTimeout(r, 25));
      }
      await c.waitFor((e) => e.type === 'response.done' && c.ofType('response.done').length === 3, 60_000);
      expect(c.ofType('input_audio_buffer.committed')).toHaveLength(3);
      // Some utterance was committed while an answer was streaming (otherwise the rule is trivial here).
      const committedAt = c.events.flatMap((e, i) => (e.type === 'input_audio_buffer.committed' ? [i] : []));
      const streaming = c.ofType('response.created').map((r) => {
        const id = (r.response as { id: string }).id;
        return [
          c.events.indexOf(r),
          c.events.findIndex((e) => e.type === 'response.done' && (e.response as { id: string }).id === id),
        ];
      });
      expect(committedAt.some((i) => streaming.some(([from, to]) => i > from && i < to))).toBe(true);
      expect(checkTranscriptsFirst(c.events)).toBe(3);
      expect(c.ofType('error')).toEqual([]);
      await c.close();
    } finally {
      slowAnswers = false;
    }
  });

  it('manual commit followed at once by response.create: the answer is to the committed audio, after its transcript', async () => {
    const c = await TestClient.connect(server.url);
    c.send({ type: 'session.update', session: { audio: { input: { turn_detection: null } } } });
    await c.waitFor((e) => e.type === 'session.updated');
    for (const audio of pcm24kChunks(placeWithGaps({ clips: [CARD_CLIPS[3]], gapsMs: [300, 300] }).samples16k, 100))
      c.send({ type: 'input_audio_buffer.append', audio });
    c.send({ type: 'input_audio_buffer.commit' });
    c.send({ type: 'response.create' });
    const done = await c.waitFor((e) => e.type === 'response.done', 30_000);
    const committed = c.ofType('input_audio_buffer.committed')[0];
    const transcript = c.ofType('conversation.item.input_audio_transcription.completed')[0];
    expect(transcript.item_id).toBe(committed.item_id);
    const output = (done.response as { output: { content: { text: string }[] }[] }).output[0];
    expect(output.content[0].text).toBe(`You said: ${transcript.transcript as string}`);
    expect(checkTranscriptsFirst(c.events)).toBe(1);
    await c.close();
  });
});
