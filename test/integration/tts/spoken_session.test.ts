import { describe, expect, it } from 'vitest';
import { TestClient } from '../../helpers/ws_client.ts';
import { askFor, audioBytes, transcriptOf } from './spoken_server.ts';
import { useSpokenSuite } from './spoken_suite.ts';

// Barge-in and session rules of spoken answers over a real WebSocket (espeak-ng, the tiny model):
// truncation cuts the transcript and the model's context, the voice is fixed once the session has
// spoken, the beta dialect's names, and a server without a voice engine.

const suite = useSpokenSuite({ lengthCuts: true, textOnly: true });

async function spokenClient(url = suite.server.url, maxTokens = 24): Promise<TestClient> {
  const c = await TestClient.connect(url);
  c.send({
    type: 'session.update',
    session: { output_modalities: ['audio'], max_output_tokens: maxTokens, audio: { input: { turn_detection: null } } },
  });
  await c.waitFor((e) => e.type === 'session.updated');
  return c;
}

/** A spoken answer, optionally truncated, then a second question: the second response's input tokens. */
async function secondInputTokens(
  truncateAtShare: number | null,
): Promise<{ inputTokens: number; full: string; heard: string | null }> {
  const c = await spokenClient();
  const first = await askFor(c, 'Tell me about the weather.');
  const itemId = (first.find((e) => e.type === 'response.output_item.added')!.item as { id: string }).id;
  const full = transcriptOf(first);
  let heard: string | null = null;
  if (truncateAtShare !== null) {
    const audioMs = Math.floor((audioBytes(first).length / 48_000) * 1000);
    const from = c.events.length;
    c.send({
      type: 'conversation.item.truncate',
      item_id: itemId,
      content_index: 0,
      audio_end_ms: Math.floor(audioMs * truncateAtShare),
    });
    const truncated = await c.waitFor((e) => e.type === 'conversation.item.truncated', 30_000, from);
    expect(truncated).toMatchObject({
      item_id: itemId,
      content_index: 0,
      audio_end_ms: Math.floor(audioMs * truncateAtShare),
    });
    c.send({ type: 'conversation.item.retrieve', item_id: itemId });
    const retrieved = await c.waitFor((e) => e.type === 'conversation.item.retrieved', 30_000, from);
    heard = (retrieved.item as { content: { transcript: string }[] }).content[0].transcript;
  }
  const second = await askFor(c, 'And tomorrow?');
  await c.close();
  return {
    inputTokens: (second.at(-1)!.response as { usage: { input_tokens: number } }).usage.input_tokens,
    full,
    heard,
  };
}

describe('spoken answers: truncation, voice, dialects', () => {
  it('conversation.item.truncate keeps the words heard by audio_end_ms, and the model forgets the rest', async () => {
    const whole = await secondInputTokens(null);
    const half = await secondInputTokens(0.5);
    expect(half.full).toBe(whole.full);
    expect(half.heard).not.toBeNull();
    const heard = half.heard!;
    expect(whole.full.startsWith(heard)).toBe(true);
    // Half the audio holds about half the words (pieces of ~60 characters, words cut whole).
    expect(heard.length).toBeGreaterThan(whole.full.length * 0.2);
    expect(heard.length).toBeLessThan(whole.full.length * 0.8);
    expect(/\S$/.test(heard) && [' ', undefined].includes(whole.full[heard.length])).toBe(true);
    // The second answer's context holds only the heard part of the first: fewer input tokens.
    expect(half.inputTokens).toBeLessThan(whole.inputTokens);
  }, 300_000);

  it('a truncation past the end of the audio is an error; at 0 nothing is heard', async () => {
    const c = await spokenClient();
    const first = await askFor(c, 'Tell me about the weather.');
    const itemId = (first.find((e) => e.type === 'response.output_item.added')!.item as { id: string }).id;
    const audioMs = Math.floor((audioBytes(first).length / 48_000) * 1000);
    c.send({
      type: 'conversation.item.truncate',
      event_id: 'past',
      item_id: itemId,
      content_index: 0,
      audio_end_ms: audioMs + 500,
    });
    const error = await c.waitFor((e) => e.type === 'error');
    expect(error.error).toMatchObject({ code: 'E_AUDIO_END_PAST_END', param: 'audio_end_ms', event_id: 'past' });
    c.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 0 });
    await c.waitFor((e) => e.type === 'conversation.item.truncated');
    c.send({ type: 'conversation.item.retrieve', item_id: itemId });
    const retrieved = await c.waitFor((e) => e.type === 'conversation.item.retrieved');
    expect(retrieved.item).toMatchObject({ content: [{ type: 'output_audio', transcript: '' }] });
    await c.close();
  }, 180_000);

  it('the voice may change until the session has answered with audio, then it is refused; an unknown voice is an error', async () => {
    const c = await spokenClient();
    c.send({ type: 'session.update', event_id: 'typo', session: { audio: { output: { voice: 'no-such-voice' } } } });
    expect((await c.waitFor((e) => e.type === 'error')).error).toMatchObject({
      code: 'E_TTS_VOICE',
      param: 'session.audio.output.voice',
      event_id: 'typo',
    });
    c.send({ type: 'session.update', session: { audio: { output: { voice: 'echo', speed: 1.25 } } } });
    const updated = await c.waitFor(
      (e) =>
        e.type === 'session.updated' &&
        (e.session as { audio: { output: { voice: string } } }).audio.output.voice === 'echo',
    );
    expect(updated.session).toMatchObject({ audio: { output: { voice: 'echo', speed: 1.25 } } });
    expect(audioBytes(await askFor(c, 'Hello.')).length).toBeGreaterThan(0);
    const from = c.events.length;
    c.send({ type: 'session.update', event_id: 'late', session: { audio: { output: { voice: 'shimmer' } } } });
    expect((await c.waitFor((e) => e.type === 'error', 10_000, from)).error).toMatchObject({
      code: 'E_VOICE_LOCKED',
      event_id: 'late',
    });
    c.send({ type: 'session.update', event_id: 'slow', session: { audio: { output: { speed: 3 } } } });
    expect(
      (
        await c.waitFor(
          (e) => e.type === 'error' && (e.error as { event_id: string }).event_id === 'slow',
          10_000,
          from,
        )
      ).error,
    ).toMatchObject({ code: 'E_INVALID_EVENT', param: 'session.audio.output.speed' });
    // The same voice again is no change, and other fields still apply.
    c.send({ type: 'session.update', session: { instructions: 'Be brief.', audio: { output: { voice: 'echo' } } } });
    const kept = await c.waitFor(
      (e) => e.type === 'session.updated' && (e.session as { instructions: string }).instructions === 'Be brief.',
      10_000,
      from,
    );
    expect(kept.session).toMatchObject({ audio: { output: { voice: 'echo' } } });
    await c.close();
  }, 180_000);

  it('beta dialect: modalities, voice and output_audio_format in, response.audio.* and response.audio_transcript.* out', async () => {
    const c = await TestClient.connect(suite.server.url, { protocols: ['realtime', 'openai-beta.realtime-v1'] });
    c.send({
      type: 'session.update',
      session: {
        modalities: ['text', 'audio'],
        voice: 'coral',
        output_audio_format: 'g711_ulaw',
        turn_detection: null,
        max_response_output_tokens: 12,
      },
    });
    const updated = await c.waitFor((e) => e.type === 'session.updated');
    expect(updated.session).toMatchObject({ modalities: ['audio'], voice: 'coral', output_audio_format: 'g711_ulaw' });
    const events = await askFor(c, 'Hello.');
    const ts = events.map((e) => e.type);
    for (const name of [
      'response.audio.delta',
      'response.audio.done',
      'response.audio_transcript.delta',
      'response.audio_transcript.done',
    ])
      expect(ts).toContain(name);
    expect(ts.some((t) => t.startsWith('response.output_audio'))).toBe(false);
    const bytes = audioBytes(events, 'response.audio.delta');
    expect(bytes.length).toBeGreaterThan(800); // G.711 at 8,000 bytes per second: more than 0.1 s of speech
    const transcript = transcriptOf(events, 'response.audio_transcript.delta');
    expect(events.find((e) => e.type === 'response.output_item.done')!.item).toMatchObject({
      content: [{ type: 'audio', transcript }],
    });
    await c.close();
  }, 180_000);

  it('without a voice engine, asking for audio is E_TTS_UNAVAILABLE, the rest of the update applies and text keeps working', async () => {
    const c = await TestClient.connect(suite.textOnly.url);
    c.send({
      type: 'session.update',
      event_id: 'speak',
      session: {
        output_modalities: ['audio'],
        instructions: 'Be brief.',
        max_output_tokens: 6,
        audio: { input: { turn_detection: null } },
      },
    });
    const error = await c.waitFor((e) => e.type === 'error');
    expect(error.error).toMatchObject({
      code: 'E_TTS_UNAVAILABLE',
      param: 'session.output_modalities',
      event_id: 'speak',
    });
    const updated = await c.waitFor((e) => e.type === 'session.updated');
    expect(updated.session).toMatchObject({ output_modalities: ['text'], instructions: 'Be brief.' });
    expect((updated.session as { audio: Record<string, unknown> }).audio.output).toBeUndefined();
    const events = await askFor(c, 'Hello.');
    expect(events.map((e) => e.type)).toContain('response.output_text.delta');
    c.send({ type: 'response.create', event_id: 'again', response: { output_modalities: ['audio'] } });
    expect(
      (await c.waitFor((e) => e.type === 'error' && (e.error as { event_id: string }).event_id === 'again')).error,
    ).toMatchObject({ code: 'E_TTS_UNAVAILABLE' });
    await c.close();
  }, 180_000);
});
