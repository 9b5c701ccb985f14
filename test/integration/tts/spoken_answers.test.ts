import { describe, expect, it } from 'vitest';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { askFor, audioBytes, pcm16Rms, transcriptOf } from './spoken_server.ts';
import { useSpokenSuite } from './spoken_suite.ts';

// Spoken answers over a real WebSocket: the real engine (EngineHost worker) on the tiny fixture model
// biased to write speakable words, espeak-ng as the voice, the audio checked as audio.

const PCM_BYTES_PER_S = 48_000;
const G711_BYTES_PER_S = 8_000;
const suite = useSpokenSuite({ lengthCuts: true });

async function spokenClient(session: Record<string, unknown> = {}, maxTokens = 24): Promise<TestClient> {
  const c = await TestClient.connect(suite.server.url);
  c.send({
    type: 'session.update',
    session: {
      output_modalities: ['audio'],
      max_output_tokens: maxTokens,
      audio: { input: { turn_detection: null } },
      ...session,
    },
  });
  await c.waitFor((e) => e.type === 'session.updated');
  return c;
}

const types = (events: ReceivedEvent[]) => events.map((e) => e.type);

describe('spoken answers over the WebSocket (espeak-ng, tiny model)', () => {
  it('sends the GA event sequence of an audio answer, in order, with its transcript and non-silent 24 kHz PCM', async () => {
    const c = await spokenClient();
    expect(c.ofType('session.updated')[0].session).toMatchObject({
      output_modalities: ['audio'],
      audio: { output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 } },
    });
    const events = await askFor(c, 'Tell me about the weather.');
    const item = events.find((e) => e.type === 'response.output_item.added')!.item as { id: string };
    // The order: everything of the message before its .done events, then item and response done.
    const sequence = types(events).filter((t) => !t.endsWith('.delta'));
    expect(sequence).toEqual([
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    expect(types(events).some((t) => t.startsWith('response.output_text'))).toBe(false);
    const deltas = events.filter((e) => e.type.endsWith('.delta'));
    const doneAt = types(events).indexOf('response.output_audio.done');
    expect(
      deltas.every(
        (d) => events.indexOf(d) < doneAt && d.item_id === item.id && d.content_index === 0 && d.output_index === 0,
      ),
    ).toBe(true);
    expect(events.find((e) => e.type === 'response.content_part.added')!.part).toEqual({
      type: 'audio',
      transcript: '',
    });
    const transcript = transcriptOf(events);
    expect(transcript.trim()).not.toBe('');
    expect(events.find((e) => e.type === 'response.output_audio_transcript.done')!.transcript).toBe(transcript);
    expect(events.find((e) => e.type === 'response.content_part.done')!.part).toEqual({ type: 'audio', transcript });
    const done = events.at(-1)!.response as {
      status: string;
      output_modalities: string[];
      output: { content: unknown[] }[];
    };
    // The biased model never writes its end token: the answer stops at max_output_tokens.
    expect(done.status).toBe('incomplete');
    expect(done.output_modalities).toEqual(['audio']);
    expect(done.output[0].content).toEqual([{ type: 'output_audio', transcript }]);
    expect((events[0].response as { output_modalities: string[] }).output_modalities).toEqual(['audio']);
    const pcm = audioBytes(events);
    expect(pcm.length % 2).toBe(0);
    // About 2.5 words per second at espeak's 175 words per minute: the audio fits the transcript's length.
    const words = transcript.trim().split(/\s+/).length;
    const seconds = pcm.length / PCM_BYTES_PER_S;
    expect(seconds).toBeGreaterThan(words * 0.15);
    expect(seconds).toBeLessThan(words * 1.2 + 1);
    expect(pcm16Rms(pcm)).toBeGreaterThan(500);
    await c.close();
  }, 180_000);

  it('streams: the first audio delta comes before the last transcript delta of a long answer', async () => {
    const c = await spokenClient({}, 60);
    const events = await askFor(c, 'Tell me a long story.');
    const firstAudio = types(events).indexOf('response.output_audio.delta');
    const lastText = types(events).lastIndexOf('response.output_audio_transcript.delta');
    expect(firstAudio).toBeGreaterThan(0);
    expect(firstAudio).toBeLessThan(lastText);
    await c.close();
  }, 180_000);

  it('pcmu and pcma carry 8,000 bytes per second of the same speech; the duration grows with the text', async () => {
    const bytes: Record<string, number> = {};
    for (const format of ['audio/pcm', 'audio/pcmu', 'audio/pcma']) {
      const c = await spokenClient({
        audio: { input: { turn_detection: null }, output: { format: { type: format } } },
      });
      const events = await askFor(c, 'Tell me about the weather.');
      const audio = audioBytes(events);
      if (format !== 'audio/pcm') expect(new Set(audio).size).toBeGreaterThan(16); // G.711 codes, not one silent value
      bytes[format] = audio.length;
      await c.close();
    }
    // The same text gives the same 24 kHz samples; G.711 is those resampled to 8 kHz: a third, rounded.
    const samples24k = bytes['audio/pcm'] / 2;
    expect(Math.abs(bytes['audio/pcmu'] - samples24k / 3)).toBeLessThanOrEqual(2);
    expect(Math.abs(bytes['audio/pcma'] - samples24k / 3)).toBeLessThanOrEqual(2);
    expect(bytes['audio/pcmu'] / G711_BYTES_PER_S).toBeCloseTo(bytes['audio/pcm'] / PCM_BYTES_PER_S, 2);
    const short = await spokenClient({}, 6);
    const shortBytes = audioBytes(await askFor(short, 'Tell me about the weather.')).length;
    await short.close();
    expect(shortBytes).toBeGreaterThan(0);
    expect(bytes['audio/pcm']).toBeGreaterThan(shortBytes * 1.5);
  }, 300_000);

  it('response.cancel mid-answer stops the audio at once and still sends the .done events', async () => {
    const c = await spokenClient({}, 200);
    const from = c.events.length;
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Talk for a long time.' }] },
    });
    c.send({ type: 'response.create' });
    await c.waitFor((e) => e.type === 'response.output_audio.delta', 120_000, from);
    c.send({ type: 'response.cancel' });
    const done = await c.waitFor((e) => e.type === 'response.done', 60_000, from);
    const events = c.events.slice(from);
    expect((done.response as { status: string; status_details: { reason: string } }).status).toBe('cancelled');
    const ts = types(events);
    const audioDone = ts.indexOf('response.output_audio.done');
    expect(audioDone).toBeGreaterThan(0);
    expect(ts.slice(audioDone, audioDone + 3)).toEqual([
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
    ]);
    expect(ts.lastIndexOf('response.output_audio.delta')).toBeLessThan(audioDone);
    expect(ts.indexOf('response.output_item.done')).toBeGreaterThan(audioDone);
    // Far fewer than the 200 tokens were generated: the generation stopped too.
    expect((done.response as { usage: { output_tokens: number } }).usage.output_tokens).toBeLessThan(200);
    await c.close();
  }, 180_000);

  it('text-only sessions are unchanged: output_text events and no audio', async () => {
    const c = await TestClient.connect(suite.server.url);
    c.send({ type: 'session.update', session: { max_output_tokens: 6, audio: { input: { turn_detection: null } } } });
    await c.waitFor((e) => e.type === 'session.updated');
    const events = await askFor(c, 'Hello.');
    expect(types(events)).toContain('response.output_text.delta');
    expect(types(events).some((t) => t.includes('audio'))).toBe(false);
    expect((events.at(-1)!.response as { output_modalities: string[] }).output_modalities).toEqual(['text']);
    // One response may still ask for audio.
    const spoken = await askFor(c, 'Hello.', { output_modalities: ['audio'] });
    expect(audioBytes(spoken).length).toBeGreaterThan(0);
    await c.close();
  }, 180_000);
});
