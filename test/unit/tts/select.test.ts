import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { openSynthesizer } from '../../../src/tts/select.ts';
import { resolveVoice } from '../../../src/tts/voices.ts';

const tts = (over: Record<string, unknown> = {}) => configSchema.parse({ tts: over }).tts;
const espeakMissing = { espeak: { program: 'espeak-ng-not-installed' } };

describe('openSynthesizer', () => {
  it('auto: espeak-ng when installed and no Kokoro hook, saying why Kokoro was passed over', async () => {
    const voice = await openSynthesizer(tts());
    expect(voice.synthesizer).toBeInstanceOf(EspeakSynthesizer);
    expect(voice.status).toMatchObject({ requested: 'auto', engine: 'espeak' });
    expect(voice.status.reason).toMatch(/kokoro/);
  });

  it('auto: Kokoro when its hook gives a synthesizer; espeak-ng when the hook gives null or fails', async () => {
    const kokoro = new EspeakSynthesizer({ ...tts().espeak, maxInputChars: 10 }); // any Synthesizer object stands for the hook's result
    expect((await openSynthesizer(tts(), { kokoro: async () => kokoro })).synthesizer).toBe(kokoro);
    expect((await openSynthesizer(tts(), { kokoro: async () => null })).status.engine).toBe('espeak');
    const failed = await openSynthesizer(tts(), {
      kokoro: async () => {
        throw new Error('weights corrupt');
      },
    });
    expect(failed.status).toMatchObject({ engine: 'espeak' });
    expect(failed.status.reason).toMatch(/weights corrupt/);
  });

  it('auto: the remote endpoint first when tts.remote.url is set', async () => {
    const voice = await openSynthesizer(tts({ remote: { url: 'http://127.0.0.1:9/v1' } }));
    expect(voice.status.engine).toBe('remote');
  });

  it('none available: E_TTS_UNAVAILABLE naming every reason and the fix', async () => {
    const voice = await openSynthesizer(tts(espeakMissing));
    expect(voice.synthesizer).toBeNull();
    expect(voice.unavailable?.code).toBe('E_TTS_UNAVAILABLE');
    expect(voice.unavailable?.message).toMatch(/apt install espeak-ng/);
    expect(voice.status).toMatchObject({ requested: 'auto', engine: null });
    expect(voice.status.reason).toMatch(/kokoro.*espeak-ng/);
  });

  it('the public reason (for /readyz) names no path', async () => {
    const voice = await openSynthesizer(tts({ espeak: { program: '/secret/dir/espeak-ng' } }));
    expect(voice.status.reason).toContain('/secret/dir');
    expect(voice.status.publicReason).toBe(
      'kokoro is not available; espeak-ng is not installed (tts.engine=auto; `earshot config` says more)',
    );
  });

  it('an explicit engine is not replaced by another', async () => {
    expect((await openSynthesizer(tts({ engine: 'remote' }))).unavailable?.message).toMatch(/tts\.remote\.url/);
    expect((await openSynthesizer(tts({ engine: 'kokoro' }))).synthesizer).toBeNull();
    expect((await openSynthesizer(tts({ engine: 'espeak', ...espeakMissing }))).synthesizer).toBeNull();
  });
});

describe('resolveVoice', () => {
  const config = tts();
  it('maps OpenAI names per engine and passes engine voice ids through', () => {
    expect(resolveVoice(config, 'espeak', 'coral')).toBe('en-us+f3');
    expect(resolveVoice(config, 'kokoro', 'alloy')).toBe('af_heart');
    expect(resolveVoice(config, 'remote', 'shimmer')).toBe('shimmer');
    expect(resolveVoice(config, 'espeak', 'en-gb')).toBe('en-gb');
    expect(resolveVoice(config, 'espeak', null)).toBe('en-us'); // default_voice alloy
  });

  it('every OpenAI voice has an entry for every engine by default', () => {
    for (const name of ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar']) {
      expect(Object.keys(config.voices[name]).sort()).toEqual(['espeak', 'kokoro', 'remote']);
    }
  });

  it('refuses an empty or over-long voice name', () => {
    expect(() => resolveVoice(config, 'espeak', '')).toThrow(expect.objectContaining({ code: 'E_TTS_VOICE' }));
    expect(() => resolveVoice(config, 'espeak', 'x'.repeat(65))).toThrow(
      expect.objectContaining({ code: 'E_TTS_VOICE' }),
    );
  });
});
