import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/schema.ts';
import { EarshotError } from '../../../src/errors.ts';
import {
  ESPEAK_SAMPLE_RATE_HZ,
  EspeakSynthesizer,
  checkEspeakInstalled,
  espeakWordsPerMinute,
} from '../../../src/tts/espeak_synthesizer.ts';
import { rms, synthesizeAll } from '../../helpers/tts_audio.ts';

const config = defaultConfig().tts;
const espeak = (over: Partial<typeof config.espeak> = {}, maxInputChars = config.max_input_chars) =>
  new EspeakSynthesizer({ ...config.espeak, ...over, maxInputChars });

async function errorOf(promise: Promise<unknown>): Promise<EarshotError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EarshotError);
  return err as EarshotError;
}

describe('EspeakSynthesizer (the espeak-ng program)', () => {
  it('is installed here and reports its version', async () => {
    expect(await checkEspeakInstalled('espeak-ng')).toMatch(/eSpeak NG/);
  });

  it('streams non-silent 22,050 Hz speech without the WAV header, in several chunks', async () => {
    const { pcm, chunks } = await synthesizeAll(espeak(), 'The quick brown fox jumps over the lazy dog, twice over.');
    expect(chunks.every((c) => c.sampleRateHz === ESPEAK_SAMPLE_RATE_HZ)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
    expect(pcm.length / ESPEAK_SAMPLE_RATE_HZ).toBeGreaterThan(1.5);
    expect(rms(pcm)).toBeGreaterThan(500);
    // A header left in would show as the ASCII "RIFF" at the start.
    expect(Buffer.from(pcm.buffer, 0, 4).toString('latin1')).not.toBe('RIFF');
  });

  it('speaks longer text for longer, and faster at a higher speed', async () => {
    const synth = espeak();
    const short = (await synthesizeAll(synth, 'Hello there.')).pcm.length;
    const long = (await synthesizeAll(synth, 'Hello there. This sentence is a good deal longer than the first one.'))
      .pcm.length;
    const fast = (
      await synthesizeAll(synth, 'Hello there. This sentence is a good deal longer than the first one.', 'en-us', 1.5)
    ).pcm.length;
    expect(long).toBeGreaterThan(short * 2);
    expect(fast).toBeLessThan(long * 0.8);
  });

  it('maps speed to words per minute within what espeak-ng accepts', () => {
    expect(espeakWordsPerMinute(1, 175)).toBe(175);
    expect(espeakWordsPerMinute(0.25, 175)).toBe(80);
    expect(espeakWordsPerMinute(1.5, 350)).toBe(450);
  });

  it('reads text starting with a dash as text, not as an option', async () => {
    const { pcm } = await synthesizeAll(espeak(), '-v nonsense --help');
    expect(rms(pcm)).toBeGreaterThan(500);
  });

  it('refuses text over the named bound, an invalid voice id, and a voice espeak lacks', async () => {
    expect((await errorOf(synthesizeAll(espeak({}, 10), 'This is more than ten characters.'))).code).toBe(
      'E_TEXT_TOO_LARGE',
    );
    expect((await errorOf(synthesizeAll(espeak(), 'Hello.', 'en; rm -rf'))).code).toBe('E_TTS_VOICE');
    expect((await errorOf(synthesizeAll(espeak(), 'Hello.', 'zz-nosuch'))).code).toBe('E_TTS_VOICE');
  });

  it('says how to install it when the program is missing', async () => {
    const err = await errorOf(synthesizeAll(espeak({ program: 'espeak-ng-not-installed' }), 'Hello.'));
    expect(err.code).toBe('E_TTS_UNAVAILABLE');
    expect(err.message).toMatch(/apt install espeak-ng/);
    expect((await errorOf(checkEspeakInstalled('espeak-ng-not-installed'))).code).toBe('E_TTS_UNAVAILABLE');
  });

  it('kills a process that outlives the named timeout', async () => {
    const long = 'This answer goes on and on. '.repeat(100);
    const err = await errorOf(synthesizeAll(espeak({ timeout_ms: 1 }), long));
    expect(err.code).toBe('E_TTS_ENGINE');
    expect(err.message).toMatch(/timeout_ms/);
  });

  it('abort kills the process at once and ends the audio without an error', async () => {
    const synth = espeak();
    const controller = new AbortController();
    const long = 'This answer goes on and on without end. '.repeat(80);
    let samples = 0;
    for await (const chunk of synth.synthesize({ text: long, voice: 'en-us', speed: 1, signal: controller.signal })) {
      samples += chunk.pcm.length;
      expect(synth.runningProcesses).toBe(1);
      controller.abort();
    }
    expect(synth.runningProcesses).toBe(0);
    const whole = (await synthesizeAll(synth, long)).pcm.length;
    expect(samples).toBeLessThan(whole / 4);
  });
});
