import { describe, expect, it, vi } from 'vitest';
import { resample } from '../../../src/audio/resample.ts';
import { float32ToInt16, int16ToFloat32 } from '../../../src/audio/pcm.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { PipelinedSpeechStream } from '../../../src/tts/speech_stream.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../../../src/tts/synthesizer.ts';
import { collect, concatInt16, rms, synthesizeAll } from '../../helpers/tts_audio.ts';

const config = defaultConfig().tts;
const espeak = new EspeakSynthesizer({ ...config.espeak, maxInputChars: config.max_input_chars });
const stream = (over: Partial<typeof config.stream> = {}) =>
  new PipelinedSpeechStream({ synthesizer: espeak, voice: 'en-us', speed: 1, bounds: { ...config.stream, ...over } });

/** What the stream must produce for one sentence: espeak's whole output resampled in one go. */
async function expectedAt24k(sentence: string): Promise<Int16Array> {
  const { pcm } = await synthesizeAll(espeak, sentence);
  return float32ToInt16(resample(int16ToFloat32(pcm), 22_050, SPEECH_OUTPUT_RATE_HZ));
}

describe('PipelinedSpeechStream with espeak-ng', () => {
  it('speaks the sentences in text order, each resampled to 24 kHz exactly as in one piece', async () => {
    const sentences = ['The first sentence is here.', 'Then a second one follows!', 'And the third ends it?'];
    const s = stream();
    const audio = collect(s.audio);
    const text = sentences.join(' ');
    for (let i = 0; i < text.length; i += 3) s.push(text.slice(i, i + 3)); // token-sized deltas
    s.end();
    const got = concatInt16(await audio);
    const want = concatInt16(await Promise.all(sentences.map(expectedAt24k)));
    expect(got.length).toBe(want.length);
    // Bit-identical: streaming resampling across espeak's pipe chunks adds nothing at the edges.
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(rms(got)).toBeGreaterThan(500);
  });

  it('gives the first audio before the answer text has ended', async () => {
    const s = stream();
    const it = s.audio[Symbol.asyncIterator]();
    s.push('Hello there, this is the start of a long answer. ');
    const first = await it.next();
    expect(first.done).toBe(false);
    expect((first.value as Int16Array).length).toBeGreaterThan(0);
    s.push('And here comes the rest.');
    s.end();
    while (!(await it.next()).done);
  });

  it('speaks the first words after first_cut_wait_ms when the first sentence has no end yet', async () => {
    const s = stream({ first_cut_wait_ms: 50 });
    const it = s.audio[Symbol.asyncIterator]();
    s.push('Let me think about this for ');
    const first = await it.next(); // neither end() nor a sentence end: only the wait-based cut can start audio
    expect(first.done).toBe(false);
    s.end();
    while (!(await it.next()).done);
  });

  it('does not speak markdown marks or code', async () => {
    const plain = stream();
    const plainAudio = collect(plain.audio);
    plain.push('Your trip. Day one in Lyon.\n');
    plain.end();
    const marked = stream();
    const markedAudio = collect(marked.audio);
    marked.push('# Your **trip**.\n- *Day one* in Lyon.\n```js\nconsole.log(1)\n```\n');
    marked.end();
    const a = concatInt16(await plainAudio);
    const b = concatInt16(await markedAudio);
    expect(Math.abs(a.length - b.length)).toBeLessThan(SPEECH_OUTPUT_RATE_HZ * 0.3); // pauses differ, words do not
  });

  it('cancel() stops at once: the audio ends and no espeak-ng process is left', async () => {
    const s = stream({ pipeline_depth: 3 });
    const it = s.audio[Symbol.asyncIterator]();
    for (let i = 0; i < 8; i++) s.push(`This is sentence number ${i}, and it is a fairly long one to speak. `);
    await it.next();
    expect(espeak.runningProcesses).toBeLessThanOrEqual(4); // the one playing + pipeline_depth ahead
    s.cancel();
    expect((await it.next()).done).toBe(true);
    // SIGKILL was sent synchronously; the exits are reaped as the (shared, loaded) machine gets to them.
    await vi.waitFor(() => expect(espeak.runningProcesses).toBe(0), { timeout: 2000, interval: 10 });
  });

  it('drops text past max_buffered_chars and reports it once', async () => {
    const overflows: number[] = [];
    const s = new PipelinedSpeechStream({
      synthesizer: espeak,
      voice: 'en-us',
      speed: 1,
      bounds: { ...config.stream, max_buffered_chars: 60 },
      onOverflow: (n) => overflows.push(n),
    });
    const audio = collect(s.audio);
    s.push('A short first sentence here. ');
    s.push('This second sentence does not fit in the bound. ');
    s.push('Nor this.');
    s.end();
    await audio;
    expect(s.droppedTextChars).toBe('This second sentence does not fit in the bound. '.length + 'Nor this.'.length);
    expect(overflows).toHaveLength(1);
  });

  it('passes an engine failure to the consumer as its EarshotError', async () => {
    const s = new PipelinedSpeechStream({ synthesizer: espeak, voice: 'zz-nosuch', speed: 1, bounds: config.stream });
    s.push('Hello there.');
    s.end();
    await expect(collect(s.audio)).rejects.toMatchObject({ code: 'E_TTS_VOICE' });
  });
});
