import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { base64Chunks, startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, textOf, type LoggedEvent } from './event_log.ts';

// The official `openai` package (OpenAIRealtimeWS, over wss:// with Earshot's self-signed certificate
// trusted through the ws `ca` option) against a real Earshot server with a scripted engine.

let gate: { open: Promise<void>; release(): void } | null = null;
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => {
    const text = ctx.lastUser?.text ?? '';
    if (text === 'Count slowly.') return 'One, two, three, four, five, six, seven, eight, nine, ten.';
    return `You said: ${ctx.heard ?? text}`;
  },
  beforeStep: ({ step, kind }) =>
    kind === 'answer' && step === 2 && gate ? gate.open : new Promise<void>((r) => setImmediate(r)),
});

let server: ConformanceServer;
let client: OpenAI;
beforeAll(async () => {
  server = await startConformanceServer(engine, { tls: true });
  client = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: server.baseURL });
});
afterAll(async () => {
  await server?.close();
});

interface Connection {
  rt: OpenAIRealtimeWS;
  log: EventLog;
  errors: { code?: string; param?: string | null; message: string }[];
}

async function connect(props: { model: string } | { intent: 'transcription' }): Promise<Connection> {
  const rt = new OpenAIRealtimeWS({ ...props, options: { ca: server.ca! } }, client);
  const log = new EventLog();
  const errors: Connection['errors'] = [];
  rt.on('event', (e) => log.push(e as unknown as LoggedEvent));
  rt.on('error', (err) =>
    errors.push({ code: err.error?.code ?? undefined, param: err.error?.param ?? null, message: err.message }),
  );
  await new Promise<void>((resolve, reject) => {
    rt.socket.once('open', () => resolve());
    rt.socket.once('error', reject);
  });
  await log.waitFor((e) => e.type === 'session.created');
  return { rt, log, errors };
}

const close = (c: Connection) =>
  new Promise<void>((resolve) => (c.rt.socket.once('close', () => resolve()), c.rt.close()));

describe('openai OpenAIRealtimeWS over wss://', () => {
  it('connects with ?model=, updates the session; audio output without a voice engine is E_TTS_UNAVAILABLE while the rest applies, a hosted prompt refused', async () => {
    const c = await connect({ model: 'gpt-realtime' });
    expect(c.rt.url.protocol).toBe('wss:');
    expect(c.rt.url.searchParams.get('model')).toBe('gpt-realtime');
    c.rt.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        output_modalities: ['text'],
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24000 },
            transcription: { model: 'gpt-4o-transcribe', language: 'en' },
            turn_detection: { type: 'server_vad', silence_duration_ms: 600 },
          },
        },
      },
    });
    const updated = await c.log.waitFor((e) => e.type === 'session.updated');
    expect(updated.session).toMatchObject({
      type: 'realtime',
      instructions: 'Be brief.',
      output_modalities: ['text'],
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: { language: 'en' },
          turn_detection: { type: 'server_vad', silence_duration_ms: 600 },
        },
      },
    });
    // On this text-only server, audio output is refused with E_TTS_UNAVAILABLE (the fix named) while the rest of
    // the update applies and the echo lists the unused fields; a hosted prompt is refused.
    c.rt.send({
      type: 'session.update',
      event_id: 'evt_audio',
      session: {
        type: 'realtime',
        output_modalities: ['audio'],
        max_output_tokens: 300,
        audio: { output: { voice: 'marin' } },
      },
    });
    const withVoice = await c.log.waitFor(
      (e) => e.type === 'session.updated' && (e.session as { max_output_tokens: unknown }).max_output_tokens === 300,
    );
    expect(withVoice.session).toMatchObject({ output_modalities: ['text'] });
    expect((withVoice.session as { ignored_fields: { param: string }[] }).ignored_fields.map((f) => f.param)).toEqual([
      'session.output_modalities',
      'session.audio.output.voice',
    ]);
    c.rt.send({
      type: 'session.update',
      event_id: 'evt_prompt',
      session: { type: 'realtime', prompt: { id: 'pmpt_1' } },
    });
    await c.log.waitFor((e) => e.type === 'error' && (e.error as { event_id?: string }).event_id === 'evt_prompt');
    expect(c.errors.map((e) => [e.code, e.param])).toEqual([
      ['E_TTS_UNAVAILABLE', 'session.output_modalities'],
      ['E_UNSUPPORTED_FEATURE', 'session.prompt'],
    ]);
    expect(c.log.ofType('error').map((e) => (e.error as { event_id: string }).event_id)).toEqual([
      'evt_audio',
      'evt_prompt',
    ]);
    await close(c);
  });

  it('answers a text message with a streamed response', async () => {
    const c = await connect({ model: 'gpt-realtime' });
    c.rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] },
    });
    c.rt.send({ type: 'response.create' });
    const done = await c.log.waitFor((e) => e.type === 'response.done');
    const response = done.response as {
      id: string;
      status: string;
      output: { type: string; role: string; content: { type: string; text: string }[] }[];
      usage: { output_tokens: number };
    };
    expect(response.status).toBe('completed');
    const deltas = c.log.ofType('response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(textOf(c.log.events, 'response.output_text.delta', response.id)).toBe('You said: Hello there');
    expect(response.output[0]).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'You said: Hello there' }],
    });
    expect(response.usage.output_tokens).toBe(deltas.length);
    // The user item and the answer are retrievable.
    const userItem = c.log.ofType('conversation.item.added')[0].item as { id: string };
    c.rt.send({ type: 'conversation.item.retrieve', item_id: userItem.id });
    const retrieved = await c.log.waitFor((e) => e.type === 'conversation.item.retrieved');
    expect(retrieved.item).toMatchObject({
      id: userItem.id,
      role: 'user',
      content: [{ type: 'input_text', text: 'Hello there' }],
    });
    expect(c.errors).toEqual([]);
    await close(c);
  });

  it('streams a WAV as base64 24 kHz PCM: speech events, transcripts, then a response per turn', async () => {
    const c = await connect({ model: 'gpt-realtime' });
    const speech = placeWithGaps({ clips: [CARD_CLIPS[0], LIBRIVOX_CLIPS[1]], gapsMs: [500, 1500, 1200] });
    const wav = wavAt24k(speech.samples16k);
    for (const audio of base64Chunks(wav.pcm24k)) c.rt.send({ type: 'input_audio_buffer.append', audio });
    await c.log.waitFor((e) => e.type === 'response.done' && c.log.ofType('response.done').length === 2, 60_000);
    const committed = c.log.ofType('input_audio_buffer.committed').map((e) => e.item_id as string);
    expect(committed).toHaveLength(2);
    for (const [turn, itemId] of committed.entries()) {
      const ev = c.log.events;
      const at = (pred: (e: LoggedEvent) => boolean) => ev.findIndex(pred);
      const completed = at(
        (e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === itemId,
      );
      const itemDone = at((e) => e.type === 'conversation.item.done' && (e.item as { id: string }).id === itemId);
      const responseId = (c.log.ofType('response.created')[turn].response as { id: string }).id;
      const firstDelta = at((e) => e.type === 'response.output_text.delta' && e.response_id === responseId);
      expect(at((e) => e.type === 'input_audio_buffer.speech_started' && e.item_id === itemId)).toBeGreaterThanOrEqual(
        0,
      );
      expect(completed).toBeGreaterThan(0);
      expect(ev[completed].transcript).toMatch(/^heard \d+ ms$/);
      expect(itemDone).toBeGreaterThan(completed);
      expect((ev[itemDone].item as { content: { transcript: string }[] }).content[0].transcript).toBe(
        ev[completed].transcript,
      );
      expect(firstDelta).toBeGreaterThan(completed);
      expect(textOf(ev, 'response.output_text.delta', responseId)).toBe(`You said: ${ev[completed].transcript}`);
    }
    expect(c.errors).toEqual([]);
    await close(c);
  });

  it('a transcription session (?intent=transcription) gives transcripts and never responses', async () => {
    const c = await connect({ intent: 'transcription' });
    expect(c.log.ofType('session.created')[0].session).toMatchObject({
      type: 'transcription',
      object: 'realtime.transcription_session',
    });
    c.rt.send({
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: { input: { transcription: { model: 'gpt-4o-transcribe', language: 'en' } } },
      },
    });
    await c.log.waitFor((e) => e.type === 'session.updated');
    const wav = wavAt24k(placeWithGaps({ clips: [CARD_CLIPS[2]], gapsMs: [500, 1200] }).samples16k);
    for (const audio of base64Chunks(wav.pcm24k)) c.rt.send({ type: 'input_audio_buffer.append', audio });
    const completed = await c.log.waitFor(
      (e) => e.type === 'conversation.item.input_audio_transcription.completed',
      60_000,
    );
    expect(completed.transcript).toMatch(/^heard \d+ ms$/);
    c.rt.send({ type: 'response.create', event_id: 'evt_resp' });
    await c.log.waitFor((e) => e.type === 'error');
    expect(c.errors[0]).toMatchObject({ code: 'E_UNSUPPORTED_FEATURE' });
    expect(c.log.ofType('response.created')).toEqual([]);
    await close(c);
  });

  it('cancels a response on response.cancel: response.done cancelled, client_cancelled, only what was sent kept', async () => {
    let release!: () => void;
    gate = { open: new Promise<void>((r) => (release = r)), release: () => release() };
    const c = await connect({ model: 'gpt-realtime' });
    c.rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Count slowly.' }] },
    });
    c.rt.send({ type: 'response.create' });
    await c.log.waitFor(
      (e) => e.type === 'response.output_text.delta' && c.log.ofType('response.output_text.delta').length === 2,
    );
    c.rt.send({ type: 'response.cancel' });
    // The cancel is handled before the gated decode step runs.
    await new Promise((r) => setTimeout(r, 50));
    gate.release();
    gate = null;
    const done = await c.log.waitFor((e) => e.type === 'response.done');
    expect(done.response).toMatchObject({
      status: 'cancelled',
      status_details: { type: 'cancelled', reason: 'client_cancelled' },
    });
    const said = textOf(c.log.events, 'response.output_text.delta');
    expect(said).toBe('One, two,');
    expect((done.response as { output: { status: string; content: { text: string }[] }[] }).output[0]).toMatchObject({
      status: 'incomplete',
      content: [{ text: said }],
    });
    expect(c.errors).toEqual([]);
    await close(c);
  });
});
