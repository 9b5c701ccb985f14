import { initializeLogger, llm } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ScriptedEngine, type ScriptedSession } from '../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../helpers/speech_fixtures.ts';
import { startConformanceServer, wavAt24k, type ConformanceServer } from './conformance_server.ts';
import { EventLog, type LoggedEvent } from './event_log.ts';

// LiveKit Agents' OpenAI realtime plugin (@livekit/agents-plugin-openai 1.9) run standalone, without a
// LiveKit room: RealtimeModel with baseURL at Earshot (the `earshot serve` composition), model.session(),
// 24 kHz frames through pushAudio. The plugin's own log lines (pino JSON on stdout) are captured: it
// reports refused chat-context updates as "rejected part of a chat context update" warnings.
// The scripted engine chooses the client tool whenever it is declared and unanswered.

const CALL = '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>';
const LONG = 'One, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve, thirteen, fourteen, fifteen.';
const talking = (session: ScriptedSession) =>
  session.log.some((e) => e.role === 'system' && e.text.includes('Talk for a while.'));
const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  // The long answer runs at 20 ms a token, so interrupt() lands while it streams.
  beforeStep: ({ session }) => new Promise<void>((r) => (talking(session) ? setTimeout(r, 20) : setImmediate(r))),
  answer: (ctx) => {
    if (talking(ctx.session)) return LONG;
    const toolsDeclared = ctx.session.log.some(
      (e) => e.role === 'system' && e.tools.some((t) => t.name === 'get_weather'),
    );
    if (toolsDeclared && ctx.lastUser?.text === 'weather please' && ctx.toolResponses.length === 0) return CALL;
    if (ctx.toolResponses.length > 0) return `It is ${JSON.parse(ctx.toolResponses[0]).sky} in Paris.`;
    return `You said: ${ctx.heard ?? ctx.lastUser?.text ?? ''}`;
  },
});

const pluginLog: Array<{ level: number; msg: string }> = [];
const stdoutWrite = process.stdout.write.bind(process.stdout);
let server: ConformanceServer;
beforeAll(async () => {
  // pino writes JSON lines to process.stdout; keep a copy of each (level 40 = warn).
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level: number; msg: string };
        pluginLog.push({ level: entry.level, msg: entry.msg });
      } catch {
        // not a log line
      }
    }
    return (stdoutWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  initializeLogger({ pretty: false, level: 'warn' });
  server = await startConformanceServer(engine);
});
afterAll(async () => {
  process.stdout.write = stdoutWrite;
  await server?.close();
});

/** 24 kHz PCM16 of placed speech, as 100 ms AudioFrames. */
function speechFrames(clip: string): AudioFrame[] {
  const { pcm24k } = wavAt24k(placeWithGaps({ clips: [clip], gapsMs: [400, 1200] }).samples16k);
  const samples = new Int16Array(pcm24k.buffer, pcm24k.byteOffset, pcm24k.byteLength / 2);
  const frames: AudioFrame[] = [];
  for (let i = 0; i < samples.length; i += 2400) {
    const data = samples.slice(i, Math.min(samples.length, i + 2400));
    frames.push(new AudioFrame(data, 24_000, 1, data.length));
  }
  return frames;
}

async function readGeneration(ev: llm.GenerationCreatedEvent): Promise<{ text: string; calls: llm.FunctionCall[] }> {
  const readMessages = (async () => {
    let text = '';
    for await (const message of ev.messageStream)
      for await (const chunk of message.textStream) text += typeof chunk === 'string' ? chunk : chunk.text;
    return text;
  })();
  const calls: llm.FunctionCall[] = [];
  for await (const call of ev.functionStream) calls.push(call);
  return { text: await readMessages, calls };
}

describe('@livekit/agents-plugin-openai RealtimeModel, standalone', () => {
  it('server-VAD turns, instructions, tools, generateReply, a tool round trip through updateChatCtx, interrupt', async () => {
    const model = new openai.realtime.RealtimeModel({
      baseURL: server.baseURL,
      apiKey: 'sk-earshot-test',
      model: 'gpt-realtime',
      modalities: ['text'],
      turnDetection: { type: 'server_vad', silence_duration_ms: 500, create_response: true, interrupt_response: true },
    });
    const session = model.session();
    const log = new EventLog();
    session.on('openai_server_event_received', (e: LoggedEvent) => log.push(e));
    const generations: llm.GenerationCreatedEvent[] = [];
    session.on('generation_created', (ev: llm.GenerationCreatedEvent) => generations.push(ev));
    const transcripts: string[] = [];
    session.on(
      'input_audio_transcription_completed',
      (ev: { transcript: string; isFinal: boolean }) => ev.isFinal && transcripts.push(ev.transcript),
    );
    try {
      // The plugin's first session.update carries audio.output.voice "marin": accepted, reported as ignored.
      const first = await log.waitFor((e) => e.type === 'session.updated');
      expect((first.session as { ignored_fields?: { param: string }[] }).ignored_fields?.map((f) => f.param)).toContain(
        'session.audio.output.voice',
      );
      expect(first.session).toMatchObject({
        output_modalities: ['text'],
        audio: { input: { turn_detection: { type: 'server_vad' } } },
      });

      await session.updateInstructions('Answer in one short sentence.');
      await log.waitFor(
        (e) =>
          e.type === 'session.updated' &&
          (e.session as { instructions: string }).instructions === 'Answer in one short sentence.',
      );

      // A server-VAD turn: transcript, then streamed text, pushed faster than real time.
      for (const frame of speechFrames(CARD_CLIPS[0])) session.pushAudio(frame);
      const done = await log.waitFor((e) => e.type === 'response.done', 30_000);
      const turn = await readGeneration(generations[0]);
      expect(turn.text).toMatch(/^You said: heard \d+ ms$/);
      expect(transcripts[0]).toMatch(/^heard \d+ ms$/);
      expect(turn.text).toBe(`You said: ${transcripts[0]}`);
      const order = log.events.map((e) => e.type);
      expect(order.indexOf('conversation.item.input_audio_transcription.completed')).toBeLessThan(
        order.indexOf('response.output_text.delta'),
      );
      expect(done.response).toMatchObject({ status: 'completed', output_modalities: ['text'] });

      // updateTools, then generateReply on a text item: the scripted model calls the client tool.
      await session.updateTools(
        new llm.ToolContext({
          get_weather: llm.tool({
            description: 'The weather in a city',
            parameters: z.object({ city: z.string() }),
            execute: async () => ({ sky: 'sunny' }),
          }),
        }),
      );
      await log.waitFor(
        (e) =>
          e.type === 'session.updated' &&
          (e.session as { tools: { name: string }[] }).tools.some((t) => t.name === 'get_weather'),
      );
      const withUser = session.chatCtx.copy();
      withUser.addMessage({ role: 'user', content: 'weather please' });
      await session.updateChatCtx(withUser);
      const reply = await session.generateReply();
      const toolTurn = await readGeneration(reply);
      expect(toolTurn.calls).toHaveLength(1);
      expect(toolTurn.calls[0]).toMatchObject({ name: 'get_weather', args: '{"city":"Paris"}' });

      // The agent's tool result: a function call and its output created back to back (chained creates).
      const withResult = session.chatCtx.copy();
      const call = toolTurn.calls[0];
      withResult.insert([
        llm.FunctionCall.create({ callId: call.callId, name: call.name, args: call.args }),
        llm.FunctionCallOutput.create({
          callId: call.callId,
          output: JSON.stringify({ sky: 'sunny' }),
          isError: false,
        }),
      ]);
      await session.updateChatCtx(withResult);
      const answer = await readGeneration(await session.generateReply());
      expect(answer.text).toBe('It is sunny in Paris.');
      const outputs = log
        .ofType('conversation.item.added')
        .filter((e) => (e.item as { type: string }).type === 'function_call_output');
      expect(outputs).toHaveLength(1);
      expect(session.chatCtx.items.map((i) => i.type)).toContain('function_call_output');

      // interrupt(): the running response is cancelled.
      const generation = await session.generateReply('Talk for a while.');
      await log.waitFor((e) => e.type === 'response.output_text.delta' && e.response_id === generation.responseId);
      await session.interrupt();
      const cut = await readGeneration(generation);
      const last = await log.waitFor(
        (e) => e.type === 'response.done' && (e.response as { id: string }).id === generation.responseId,
      );
      expect(last.response).toMatchObject({ status: 'cancelled', status_details: { reason: 'client_cancelled' } });
      expect(LONG.startsWith(cut.text) && cut.text.length < LONG.length).toBe(true);

      expect(log.ofType('error')).toEqual([]);
      expect(pluginLog.filter((l) => /rejected/.test(l.msg))).toEqual([]);
      expect(pluginLog.filter((l) => l.level >= 50)).toEqual([]);
      expect(pluginLog.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
    } finally {
      await session.close();
      await model.close();
    }
  });
});
