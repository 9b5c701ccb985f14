import { RealtimeClient } from 'openai-realtime-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedEngine } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, type LoggedEvent } from './event_log.ts';

// A community TypeScript client of the beta dialect: `openai-realtime-api` (a typed fork of OpenAI's
// openai-realtime-api-beta reference client; header OpenAI-Beta: realtime=v1) against the composition
// `earshot serve` runs. Its defaults are a beta session with audio output, voice "alloy", temperature
// and manual turns, and its createResponse() sends input_audio_buffer.commit then response.create back
// to back. The scripted engine calls the client's tool when it is declared and unanswered.

const CALL = '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>';
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => {
    const toolsDeclared = ctx.session.log.some(
      (e) => e.role === 'system' && e.tools.some((t) => t.name === 'get_weather'),
    );
    if (toolsDeclared && ctx.lastUser?.text === 'weather please' && ctx.toolResponses.length === 0) return CALL;
    if (ctx.toolResponses.length > 0) return `It is ${JSON.parse(ctx.toolResponses[0]).sky} in Paris.`;
    return `You said: ${ctx.heard ?? ctx.lastUser?.text ?? ''}`;
  },
});

let server: ConformanceServer;
beforeAll(async () => {
  server = await startConformanceServer(engine);
});
afterAll(async () => {
  await server?.close();
});

function speech24k(clip: string): Int16Array {
  const { pcm24k } = wavAt24k(placeWithGaps({ clips: [clip], gapsMs: [400, 1200] }).samples16k);
  return new Int16Array(pcm24k.buffer.slice(pcm24k.byteOffset, pcm24k.byteOffset + pcm24k.byteLength));
}

/** The text of a response (beta `response.text.delta`), and whether the transcripts of the user audio before it completed first. */
function responseText(log: EventLog, responseId: string): string {
  return log.events
    .filter((e) => e.type === 'response.text.delta' && e.response_id === responseId)
    .map((e) => e.delta as string)
    .join('');
}

function expectTranscriptBeforeAnswer(log: EventLog, userItemId: string, responseId: string): void {
  const completed = log.events.findIndex(
    (e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === userItemId,
  );
  const firstDelta = log.events.findIndex((e) => e.type === 'response.text.delta' && e.response_id === responseId);
  expect(completed).toBeGreaterThanOrEqual(0);
  expect(completed).toBeLessThan(firstDelta);
  const assistant = log.events.find(
    (e) =>
      e.type === 'conversation.item.created' &&
      (e.item as { role?: string }).role === 'assistant' &&
      log.events.some(
        (r) =>
          r.type === 'response.output_item.added' &&
          r.response_id === responseId &&
          (r.item as { id: string }).id === (e.item as { id: string }).id,
      ),
  );
  expect(assistant?.previous_item_id).toBe(userItemId);
}

describe('openai-realtime-api (beta dialect community client)', () => {
  it('text messages, a manual turn, a server-VAD turn and a tool round trip', async () => {
    const client = new RealtimeClient({
      url: `ws://127.0.0.1:${server.port}/v1/realtime`,
      apiKey: 'sk-earshot-test',
      model: 'gpt-4o-realtime-preview',
      sessionConfig: { instructions: 'Be brief.' },
    });
    const log = new EventLog();
    client.realtime.on('server.*', (e: LoggedEvent) => log.push(e));
    await client.connect();
    await client.waitForSessionCreated();
    try {
      // Its default session (audio output, voice, temperature, pcm16 output) is accepted as text-only.
      const updated = await log.waitFor((e) => e.type === 'session.updated');
      expect(updated.session).toMatchObject({
        modalities: ['text'],
        instructions: 'Be brief.',
        turn_detection: null,
        max_response_output_tokens: 4096,
      });
      expect((updated.session as { ignored_fields: { param: string }[] }).ignored_fields.map((f) => f.param)).toEqual([
        'session.modalities',
        'session.voice',
        'session.output_audio_format',
        'session.temperature',
      ]);

      // A text message.
      client.sendUserMessageContent([{ type: 'input_text', text: 'Hi' }]);
      const first = await log.waitFor((e) => e.type === 'response.done');
      const firstId = (first.response as { id: string }).id;
      expect(responseText(log, firstId)).toBe('You said: Hi');
      expect(client.conversation.getItems().map((i) => [i.role, i.formatted.text])).toEqual([
        ['user', 'Hi'],
        ['assistant', 'You said: Hi'],
      ]);

      // A manual turn: commit and response.create back to back; the answer is to the committed audio.
      client.appendInputAudio(speech24k(CARD_CLIPS[1]));
      client.createResponse();
      const committed = await log.waitFor((e) => e.type === 'input_audio_buffer.committed');
      const manual = await log.waitFor(
        (e) => e.type === 'response.done' && (e.response as { id: string }).id !== firstId,
        30_000,
      );
      const manualId = (manual.response as { id: string }).id;
      expect(responseText(log, manualId)).toMatch(/^You said: heard \d+ ms$/);
      expectTranscriptBeforeAnswer(log, committed.item_id as string, manualId);

      // A server-VAD turn.
      client.updateSession({ turn_detection: { type: 'server_vad', silence_duration_ms: 500 } });
      await log.waitFor(
        (e) =>
          e.type === 'session.updated' &&
          (e.session as { turn_detection: { type: string } | null }).turn_detection?.type === 'server_vad',
      );
      client.appendInputAudio(speech24k(CARD_CLIPS[2]));
      const vadCommitted = await log.waitFor(
        (e) => e.type === 'input_audio_buffer.committed' && e.item_id !== committed.item_id,
        30_000,
      );
      const vad = await log.waitFor(
        (e) => e.type === 'response.done' && log.ofType('response.done').length === 3,
        30_000,
      );
      const vadId = (vad.response as { id: string }).id;
      expect(responseText(log, vadId)).toMatch(/^You said: heard \d+ ms$/);
      expectTranscriptBeforeAnswer(log, vadCommitted.item_id as string, vadId);

      // A tool round trip: the client runs the call, sends its output and asks for the answer.
      const calls: unknown[] = [];
      client.addTool(
        {
          name: 'get_weather',
          description: 'The weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
        async (args: unknown) => {
          calls.push(args);
          return { sky: 'sunny' };
        },
      );
      await log.waitFor((e) => e.type === 'session.updated' && (e.session as { tools: unknown[] }).tools.length === 1);
      client.sendUserMessageContent([{ type: 'input_text', text: 'weather please' }]);
      const answered = await log.waitFor(
        (e) => e.type === 'response.done' && log.ofType('response.done').length === 5,
        30_000,
      );
      expect(calls).toEqual([{ city: 'Paris' }]);
      expect(responseText(log, (answered.response as { id: string }).id)).toBe('It is sunny in Paris.');
      expect(log.ofType('conversation.item.created').map((e) => (e.item as { type: string }).type)).toContain(
        'function_call_output',
      );
      expect(log.ofType('response.output_text.delta')).toEqual([]);
      // Its default session asks for audio (each session.update): this server has no voice engine.
      expect(log.ofType('error').filter((e) => (e.error as { code: string }).code !== 'E_TTS_UNAVAILABLE')).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
