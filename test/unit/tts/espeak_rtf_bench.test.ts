import { describe, expect, it } from 'vitest';
import { measureEspeakRtf } from '../../../src/bench/tts/espeak_rtf.ts';
import { measureSpeechStreamFirstAudio } from '../../../src/bench/tts/speech_stream_first_audio.ts';

// The benchmark piece runs and reports sane quantities (its speed is reported by the benchmark, never asserted).
describe('measureEspeakRtf', () => {
  it('reports an RTF, a first-audio time and the audio length it measured', async () => {
    const r = await measureEspeakRtf({ runs: 2 });
    expect(r.espeak_runs).toBe(2);
    expect(r.espeak_audio_s).toBeGreaterThan(10);
    expect(r.espeak_rtf).toBeGreaterThan(0);
    expect(r.espeak_first_audio_ms).toBeGreaterThan(0);
  });
});

describe('measureSpeechStreamFirstAudio', () => {
  it("reports the stream's first audio beside espeak-ng's own, from the same run", async () => {
    const r = await measureSpeechStreamFirstAudio(2);
    expect(r.trials).toBe(2);
    expect(r.stream_first_audio_ms).toBeGreaterThan(0);
    expect(r.espeak_first_audio_ms).toBeGreaterThan(0);
  });
});
