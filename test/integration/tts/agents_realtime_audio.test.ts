import { OpenAIRealtimeWebSocket, RealtimeAgent, RealtimeSession } from '@openai/agents-realtime';
import { describe, expect, it } from 'vitest';
import { EventLog, type LoggedEvent } from '../../conformance/event_log.ts';
import { sdkCannotParse } from '../../conformance/sdk_parser.ts';
import { useSpokenSuite } from './spoken_suite.ts';

// @openai/agents-realtime (RealtimeSession over its WebSocket transport) asking Earshot for audio: every
// event parsed by the SDK, its `audio` events carry the PCM, and its history holds the spoken transcript.

const suite = useSpokenSuite();

describe('agents-realtime receives spoken answers', () => {
  it('audio events with 24 kHz PCM, the transcript in history, no event it cannot parse', async () => {
    const transport = new OpenAIRealtimeWebSocket({
      url: `ws://127.0.0.1:${suite.server.address.port}/v1/realtime?model=phi-4-multimodal-instruct`,
    });
    const session = new RealtimeSession(new RealtimeAgent({ name: 'Speaker', instructions: 'Answer briefly.' }), {
      transport,
      tracingDisabled: true,
      config: {
        outputModalities: ['audio'],
        audio: {
          input: { turnDetection: null as never },
          output: { voice: 'alloy', format: { type: 'audio/pcm', rate: 24000 } },
        },
      },
    });
    const log = new EventLog();
    const generic: string[] = [];
    const errors: unknown[] = [];
    let audioBytes = 0;
    session.on('transport_event', (event) => {
      const e = event as unknown as LoggedEvent;
      if (typeof e.event_id !== 'string') return;
      log.push(e);
      if (sdkCannotParse(e)) generic.push(e.type);
    });
    session.on('audio', (event) => {
      audioBytes += event.data.byteLength;
    });
    session.on('error', (err) => errors.push(err));
    await session.connect({ apiKey: 'sk-earshot-test' });
    await log.waitFor((e) => e.type === 'session.updated');
    session.transport.sendEvent({ type: 'session.update', session: { type: 'realtime', max_output_tokens: 12 } });
    session.sendMessage('Tell me about the weather.');
    await log.waitFor((e) => e.type === 'response.done', 120_000);
    const transcript = (
      log.events.find((e) => e.type === 'response.output_audio_transcript.done') as LoggedEvent & { transcript: string }
    ).transcript;
    expect(transcript.trim()).not.toBe('');
    expect(audioBytes).toBeGreaterThan(48_000 * 0.2);
    expect(audioBytes % 2).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    const assistant = session.history.find((i) => i.type === 'message' && i.role === 'assistant') as
      | { content: { type: string; transcript?: string | null }[] }
      | undefined;
    expect(assistant?.content[0]).toMatchObject({ type: 'output_audio', transcript });
    expect(generic).toEqual([]);
    expect(errors).toEqual([]);
    session.close();
  }, 180_000);
});
