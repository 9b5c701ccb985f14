import { OpenAIRealtimeWebSocket, RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../src/engine/phi4mm/fixture/index.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { base64Chunks, startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, type LoggedEvent } from './event_log.ts';
import { sdkCannotParse } from './sdk_parser.ts';

// The `openai` client over wss:// against Earshot running the real engine (EngineHost worker) on the
// generated tiny Phi-4-mm model. Its words are meaningless; what is checked is that a WAV streamed by
// the official client gets a transcript and a text response with real token usage, and no error.

let host: EngineHost;
let server: ConformanceServer;
beforeAll(async () => {
  host = createEngineHost({ modelDir: await ensureFixtureModel('tiny'), intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
  server = await startConformanceServer(host, { tls: true, overrides: { agent: { caption_max_tokens: 6 } } });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await host?.close();
});

describe('openai OpenAIRealtimeWS with the tiny ONNX model', () => {
  it('a WAV streamed at 24 kHz: transcript, then a text response with usage', async () => {
    const rt = new OpenAIRealtimeWS(
      { model: 'phi-4-multimodal-instruct', options: { ca: server.ca! } },
      new OpenAI({ apiKey: 'sk-earshot-test', baseURL: server.baseURL }),
    );
    const log = new EventLog();
    const errors: unknown[] = [];
    rt.on('event', (e) => log.push(e as unknown as LoggedEvent));
    rt.on('error', (err) => errors.push(err));
    await log.waitFor((e) => e.type === 'session.created');
    rt.send({
      type: 'session.update',
      session: { type: 'realtime', output_modalities: ['text'], max_output_tokens: 6, instructions: 'Answer briefly.' },
    });
    await log.waitFor((e) => e.type === 'session.updated');
    const wav = wavAt24k(placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 1200] }).samples16k);
    for (const audio of base64Chunks(wav.pcm24k)) rt.send({ type: 'input_audio_buffer.append', audio });
    const done = await log.waitFor((e) => e.type === 'response.done', 120_000);
    const completed = log.ofType('conversation.item.input_audio_transcription.completed')[0] as LoggedEvent & {
      usage: { input_token_details: { audio_tokens: number } };
    };
    expect(completed).toBeDefined();
    expect(completed.usage.input_token_details.audio_tokens).toBeGreaterThan(0);
    const response = done.response as {
      status: string;
      usage: { output_tokens: number; input_token_details: { audio_tokens: number } };
    };
    expect(['completed', 'incomplete']).toContain(response.status);
    expect(response.usage.output_tokens).toBeGreaterThan(0);
    expect(response.usage.output_tokens).toBeLessThanOrEqual(6);
    expect(response.usage.input_token_details.audio_tokens).toBeGreaterThan(0);
    expect(log.events.indexOf(completed)).toBeLessThan(log.events.findIndex((e) => e.type === 'response.created'));
    expect(errors).toEqual([]);
    rt.close();
  }, 180_000);

  it('agents-realtime over the WebSocket: a spoken turn answered, every event parsed by the SDK', async () => {
    const ws = `wss://127.0.0.1:${server.port}/v1/realtime?model=phi-4-multimodal-instruct`;
    // The transport's default WebSocket cannot be given a CA; createWebSocket builds one that trusts Earshot's.
    const { WebSocket } = await import('ws');
    const transport = new OpenAIRealtimeWebSocket({
      url: ws,
      createWebSocket: async ({ url, apiKey }) =>
        new WebSocket(url, { ca: server.ca!, headers: { Authorization: `Bearer ${apiKey}` } }) as never,
    });
    const session = new RealtimeSession(new RealtimeAgent({ name: 'Tiny', instructions: 'Answer briefly.' }), {
      transport,
      tracingDisabled: true,
      config: { outputModalities: ['text'], audio: { input: { turnDetection: { type: 'server_vad' } } } },
    });
    const log = new EventLog();
    const generic: string[] = [];
    const errors: unknown[] = [];
    session.on('transport_event', (event) => {
      const e = event as unknown as LoggedEvent;
      if (typeof e.event_id !== 'string') return; // transport-level notifications, not server events
      log.push(e);
      if (sdkCannotParse(e)) generic.push(e.type);
    });
    session.on('error', (err) => errors.push(err));
    await session.connect({ apiKey: 'sk-earshot-test' });
    await log.waitFor((e) => e.type === 'session.updated');
    session.transport.sendEvent({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 6 } });
    const wav = wavAt24k(placeWithGaps({ clips: [CARD_CLIPS[1]], gapsMs: [500, 1200] }).samples16k);
    for (let i = 0; i < wav.pcm24k.length; i += 4800) session.sendAudio(wav.pcm24k.slice(i, i + 4800).buffer);
    await log.waitFor((e) => e.type === 'response.done', 120_000);
    await log.waitFor((e) => e.type === 'conversation.item.retrieved', 10_000);
    expect(session.history.some((i) => i.type === 'message' && i.role === 'assistant')).toBe(true);
    expect(log.length).toBeGreaterThan(15);
    expect(generic).toEqual([]);
    expect(errors).toEqual([]);
    session.close();
  }, 180_000);
});
