import OpenAI from 'openai';
import { OpenAIRealtimeWS as BetaRealtimeWS } from 'openai/beta/realtime/ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { base64Chunks, startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, textOf, type LoggedEvent } from './event_log.ts';

// The beta dialect against the composition `earshot serve` runs (startServer: store, recorder, metrics,
// auth, admission): the `openai` package's beta connector (header OpenAI-Beta: realtime=v1) and a
// browser-style client offering the subprotocol openai-beta.realtime-v1. The store and metrics must see
// the GA shapes whatever the client's dialect.

const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => `You said: ${ctx.heard ?? ctx.lastUser?.text ?? ''}`,
});
let server: ConformanceServer;
beforeAll(async () => {
  server = await startConformanceServer(engine, { tls: true });
});
afterAll(async () => {
  await server?.close();
});

describe('beta dialect', () => {
  it('openai beta OpenAIRealtimeWS: flat session fields, response.text.*, conversation.item.created', async () => {
    const client = new OpenAI({ apiKey: 'sk-earshot-test', baseURL: server.baseURL });
    const rt = new BetaRealtimeWS({ model: 'gpt-4o-realtime-preview', options: { ca: server.ca! } }, client);
    const log = new EventLog();
    const errors: unknown[] = [];
    rt.on('event', (e) => log.push(e as unknown as LoggedEvent));
    rt.on('error', (err) => errors.push(err));
    await log.waitFor((e) => e.type === 'session.created');
    expect(log.events[0].session).toMatchObject({
      model: 'gpt-4o-realtime-preview',
      modalities: ['text'],
      input_audio_format: 'pcm16',
    });
    expect(log.events[0].session).not.toHaveProperty('audio');
    rt.send({
      type: 'session.update',
      session: {
        modalities: ['text'],
        instructions: 'Be brief.',
        input_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'whisper-1' },
        turn_detection: { type: 'server_vad', silence_duration_ms: 700 },
      },
    });
    const updated = await log.waitFor((e) => e.type === 'session.updated');
    expect(updated.session).toMatchObject({
      modalities: ['text'],
      instructions: 'Be brief.',
      input_audio_format: 'g711_ulaw',
      input_audio_transcription: { model: 'whisper-1' },
      turn_detection: { silence_duration_ms: 700 },
    });
    rt.send({ type: 'session.update', session: { input_audio_format: 'pcm16' } });
    await log.waitFor((e) => e.type === 'session.updated' && log.ofType('session.updated').length === 2);
    rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
    });
    rt.send({ type: 'response.create', response: { modalities: ['text'] } });
    const done = await log.waitFor((e) => e.type === 'response.done');
    expect(done.response).toMatchObject({
      status: 'completed',
      modalities: ['text'],
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'You said: Hi' }] }],
    });
    expect(textOf(log.events, 'response.text.delta')).toBe('You said: Hi');
    expect(log.ofType('response.text.done')[0]).toMatchObject({ text: 'You said: Hi' });
    expect(log.ofType('response.output_text.delta')).toEqual([]);
    expect(log.ofType('conversation.item.created').map((e) => (e.item as { role: string }).role)).toEqual([
      'user',
      'assistant',
    ]);
    expect(log.ofType('conversation.item.added')).toEqual([]);
    // Audio output and a voice are accepted; the echo says the session stays text-only and why.
    rt.send({
      type: 'session.update',
      session: { modalities: ['text', 'audio'], voice: 'alloy', temperature: 0.8, max_response_output_tokens: 'inf' },
    });
    await log.waitFor((e) => e.type === 'session.updated' && log.ofType('session.updated').length === 3);
    const echo = log.ofType('session.updated')[2].session as Record<string, unknown>;
    expect(echo).toMatchObject({ modalities: ['text'], max_response_output_tokens: 'inf', instructions: 'Be brief.' });
    expect(echo).not.toHaveProperty('voice');
    expect((echo.ignored_fields as Array<{ param: string }>).map((f) => f.param)).toEqual([
      'session.modalities',
      'session.voice',
      'session.temperature',
    ]);
    // This server has no voice engine: asking for audio is answered with E_TTS_UNAVAILABLE, in beta spelling.
    expect(log.ofType('error').map((e) => e.error)).toMatchObject([
      { code: 'E_TTS_UNAVAILABLE', param: 'session.modalities' },
    ]);
    expect(errors).toHaveLength(1);
    errors.length = 0;
    // The store saw the GA session (type, model) and the turn.
    const sessionId = (log.events[0].session as { id: string }).id;
    expect(server.store.getSession(sessionId)).toMatchObject({ type: 'realtime', model: 'gpt-4o-realtime-preview' });
    rt.close();
  });

  it('subprotocol openai-beta.realtime-v1 with ?intent=transcription: transcription_session.update/updated and transcripts', async () => {
    const ws = new WebSocket(
      `wss://127.0.0.1:${server.port}/v1/realtime?intent=transcription`,
      ['realtime', 'openai-insecure-api-key.sk-earshot-test', 'openai-beta.realtime-v1'],
      { ca: server.ca! },
    );
    const log = new EventLog();
    ws.on('message', (data) => log.push(JSON.parse(data.toString()) as LoggedEvent));
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    expect(ws.protocol).toBe('realtime');
    await log.waitFor((e) => e.type === 'session.created');
    ws.send(
      JSON.stringify({
        type: 'transcription_session.update',
        session: {
          input_audio_format: 'pcm16',
          input_audio_transcription: { model: 'gpt-4o-transcribe', language: 'en' },
          turn_detection: { type: 'server_vad' },
        },
      }),
    );
    const updated = await log.waitFor((e) => e.type === 'transcription_session.updated');
    expect(updated.session).toMatchObject({
      object: 'realtime.transcription_session',
      input_audio_format: 'pcm16',
      input_audio_transcription: { language: 'en' },
    });
    const wav = wavAt24k(placeWithGaps({ clips: [CARD_CLIPS[3]], gapsMs: [500, 1200] }).samples16k);
    for (const audio of base64Chunks(wav.pcm24k)) ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio }));
    const completed = await log.waitFor(
      (e) => e.type === 'conversation.item.input_audio_transcription.completed',
      30_000,
    );
    expect(completed.transcript).toMatch(/^heard \d+ ms$/);
    expect(log.ofType('conversation.item.created')).toHaveLength(1);
    expect(log.ofType('response.created')).toEqual([]);
    expect(log.ofType('error')).toEqual([]);
    ws.close();
  });
});
