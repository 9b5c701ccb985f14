import {
  OpenAIRealtimeWebSocket,
  RealtimeAgent,
  RealtimeSession,
  tool,
  type RealtimeItem,
} from '@openai/agents-realtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkCannotParse } from './sdk_parser.ts';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { waitFor } from '../helpers/wait_for.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, type LoggedEvent } from './event_log.ts';

// @openai/agents-realtime's RealtimeSession with its WebSocket transport pointed at Earshot (ws://), a
// text-only agent (outputModalities ['text']): a client-side function tool the SDK executes itself, a
// spoken conversation, and a barge-in. Every server event must pass the SDK's schemas.

let gate: { open: Promise<void>; release(): void } | null = null;
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => {
    const text = ctx.lastUser?.text ?? '';
    if (text === 'What is the weather in Paris?') {
      return ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>'
        : `The weather: ${ctx.toolResponses[0]}`;
    }
    return `Answer to ${ctx.heard ?? text}. ${'And some more words. '.repeat(4)}`.trim();
  },
  beforeStep: ({ step, kind }) =>
    kind === 'answer' && step === 3 && gate ? gate.open : new Promise<void>((r) => setImmediate(r)),
});

let server: ConformanceServer;
beforeAll(async () => {
  server = await startConformanceServer(engine);
});
afterAll(async () => {
  await server?.close();
});

interface Harness {
  session: RealtimeSession;
  raw: EventLog;
  generic: LoggedEvent[];
  errors: unknown[];
  toolCalls: { city: string }[];
}

async function open(): Promise<Harness> {
  const toolCalls: { city: string }[] = [];
  const getWeather = tool({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
    strict: true,
    execute: async (input) => {
      const { city } = input as { city: string };
      toolCalls.push({ city });
      return `sunny in ${city}`;
    },
  });
  const agent = new RealtimeAgent({ name: 'Assistant', instructions: 'Answer briefly.', tools: [getWeather] });
  const transport = new OpenAIRealtimeWebSocket({
    url: `ws://127.0.0.1:${server.port}/v1/realtime?model=phi-4-multimodal-instruct`,
  });
  const session = new RealtimeSession(agent, {
    transport,
    model: 'phi-4-multimodal-instruct',
    tracingDisabled: true,
    config: {
      outputModalities: ['text'],
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          turnDetection: { type: 'server_vad', silenceDurationMs: 500 },
        },
      },
    },
  });
  const raw = new EventLog();
  const generic: LoggedEvent[] = [];
  const errors: unknown[] = [];
  session.on('transport_event', (event) => {
    const e = event as unknown as LoggedEvent;
    if (
      typeof e.type !== 'string' ||
      e.type === 'connection_change' ||
      e.type === 'audio' ||
      e.type === 'turn_started' ||
      e.type === 'turn_done'
    )
      return;
    raw.push(e);
    if (sdkCannotParse(e)) generic.push(e);
  });
  session.on('error', (err) => errors.push(err));
  await session.connect({ apiKey: 'sk-earshot-test' });
  await raw.waitFor((e) => e.type === 'session.updated');
  return { session, raw, generic, errors, toolCalls };
}

const messages = (history: RealtimeItem[]) =>
  history.filter((i): i is Extract<RealtimeItem, { type: 'message' }> => i.type === 'message');
const contentText = (item: Extract<RealtimeItem, { type: 'message' }>) =>
  item.content
    .map((c) => ('text' in c && typeof c.text === 'string' ? c.text : 'transcript' in c ? (c.transcript ?? '') : ''))
    .join('');

describe('@openai/agents-realtime RealtimeSession over the WebSocket transport', () => {
  it('runs a client-side function tool the SDK executes itself, then answers with its result', async () => {
    const h = await open();
    const updated = h.raw.ofType('session.updated').at(-1)!.session as {
      output_modalities: string[];
      tools: { name: string }[];
    };
    expect(updated.output_modalities).toEqual(['text']);
    expect(updated.tools.map((t) => t.name)).toEqual(['get_weather']);
    h.session.sendMessage('What is the weather in Paris?');
    await h.raw.waitFor((e) => e.type === 'response.done' && h.raw.ofType('response.done').length === 2);
    expect(h.toolCalls).toEqual([{ city: 'Paris' }]);
    const [first, second] = h.raw
      .ofType('response.done')
      .map((e) => e.response as { status: string; output: { type: string }[] });
    expect(first.output.map((o) => o.type)).toEqual(['function_call']);
    expect(second.status).toBe('completed');
    // The SDK's history: the user's message, the call with its output, and the answer.
    await waitFor(() => messages(h.session.history).some((m) => m.role === 'assistant' && m.status === 'completed'), {
      what: 'a completed assistant message in the history',
    });
    const call = h.session.history.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', output: 'sunny in Paris' });
    const answer = messages(h.session.history).find((m) => m.role === 'assistant')!;
    expect(contentText(answer)).toBe('The weather: sunny in Paris');
    expect(h.raw.length).toBeGreaterThan(20);
    expect(h.generic.map((e) => e.type)).toEqual([]);
    expect(h.errors).toEqual([]);
    h.session.close();
  });

  it('a spoken conversation with a barge-in: transcripts in the history, the interrupted answer cancelled (turn_detected)', async () => {
    const h = await open();
    let release!: () => void;
    gate = { open: new Promise<void>((r) => (release = r)), release: () => release() };
    const sendWav = (samples16k: Float32Array) => {
      const { pcm24k } = wavAt24k(samples16k);
      for (let i = 0; i < pcm24k.length; i += 4800) {
        const chunk = pcm24k.slice(i, Math.min(pcm24k.length, i + 4800));
        h.session.sendAudio(chunk.buffer);
      }
    };
    sendWav(placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 900] }).samples16k);
    await h.raw.waitFor((e) => e.type === 'response.output_text.delta', 30_000);
    // Speech while the answer is held after 3 tokens: the server cancels it.
    sendWav(placeWithGaps({ clips: [LIBRIVOX_CLIPS[1]], gapsMs: [300, 900] }).samples16k);
    await h.raw.waitFor(
      (e) =>
        e.type === 'input_audio_buffer.speech_stopped' &&
        h.raw.ofType('input_audio_buffer.speech_stopped').length === 2,
      30_000,
    );
    gate.release();
    gate = null;
    const firstDone = await h.raw.waitFor((e) => e.type === 'response.done', 30_000);
    expect(firstDone.response).toMatchObject({ status: 'cancelled', status_details: { reason: 'turn_detected' } });
    await h.raw.waitFor((e) => e.type === 'response.done' && h.raw.ofType('response.done').length === 2, 30_000);
    expect((h.raw.ofType('response.done')[1].response as { status: string }).status).toBe('completed');
    // The SDK retrieved each user item after its transcript and shows the transcripts in its history.
    await waitFor(() => h.raw.ofType('conversation.item.retrieved').length === 2, {
      what: 'both user items retrieved',
    });
    const users = messages(h.session.history).filter((m) => m.role === 'user');
    expect(users.map(contentText)).toEqual(
      h.raw.ofType('conversation.item.input_audio_transcription.completed').map((e) => e.transcript),
    );
    expect(users.map(contentText).every((t) => /^heard \d+ ms$/.test(t))).toBe(true);
    const assistants = messages(h.session.history).filter((m) => m.role === 'assistant');
    expect(assistants).toHaveLength(2);
    expect(assistants[0].status).toBe('incomplete');
    expect(contentText(assistants[0]).split(' ')).toHaveLength(3);
    expect(h.raw.length).toBeGreaterThan(20);
    expect(h.generic.map((e) => e.type)).toEqual([]);
    expect(h.errors).toEqual([]);
    h.session.close();
  });
});

describe('@openai/agents-realtime with its default (audio output) configuration', () => {
  it('is accepted: the echo says output is text and lists what had no effect, and a message is answered', async () => {
    const transport = new OpenAIRealtimeWebSocket({
      url: `ws://127.0.0.1:${server.port}/v1/realtime?model=gpt-realtime`,
    });
    const session = new RealtimeSession(new RealtimeAgent({ name: 'Default', instructions: 'Hi.' }), {
      transport,
      tracingDisabled: true,
    });
    const raw = new EventLog();
    const errors: unknown[] = [];
    session.on('transport_event', (event) => {
      const e = event as unknown as LoggedEvent;
      if (
        typeof e.type === 'string' &&
        e.type !== 'connection_change' &&
        e.type !== 'audio' &&
        e.type !== 'turn_started' &&
        e.type !== 'turn_done'
      )
        raw.push(e);
    });
    session.on('error', (err) => errors.push(err));
    await session.connect({ apiKey: 'sk-earshot-test' });
    const updated = await raw.waitFor(
      (e) => e.type === 'session.updated' && (e.session as { instructions: string }).instructions === 'Hi.',
    );
    expect(updated.session).toMatchObject({ output_modalities: ['text'] });
    expect((updated.session as { ignored_fields: { param: string }[] }).ignored_fields.map((f) => f.param)).toContain(
      'session.output_modalities',
    );
    session.sendMessage('Hello');
    const done = await raw.waitFor((e) => e.type === 'response.done');
    expect(done.response).toMatchObject({ status: 'completed', output_modalities: ['text'] });
    // Its default asks for audio: this server has no voice engine, which it says once (E_TTS_UNAVAILABLE).
    expect(raw.ofType('error').map((e) => (e.error as { code: string }).code)).toEqual(['E_TTS_UNAVAILABLE']);
    expect(errors).toHaveLength(1);
    session.close();
  });
});
