// Benchmark piece of `earshot bench tts` (assembled elsewhere): how fast espeak-ng speaks here.
//   espeak_rtf: synthesis wall time / audio duration for a ~15 s paragraph, median over the runs
//     (1 = exactly real time; lower is faster);
//   espeak_first_audio_ms: from the synthesize() call (process spawn included) to the first PCM chunk,
//     median over the runs.
import { defaultConfig } from '../../config/schema.ts';
import { ESPEAK_SAMPLE_RATE_HZ, EspeakSynthesizer } from '../../tts/espeak_synthesizer.ts';
import { percentile, round } from '../stats.ts';

const PARAGRAPH =
  'The train to Lyon leaves from platform nine at a quarter past ten. It takes about two hours, and there is a ' +
  'dining car near the front. If you would rather fly, the first flight leaves at seven in the morning, but ' +
  'the airport is far from the city centre, so the train is usually quicker door to door.';

export interface EspeakRtfOptions {
  runs?: number;
  text?: string;
  program?: string;
  voice?: string;
}

export interface EspeakRtfResult {
  espeak_rtf: number;
  espeak_first_audio_ms: number;
  /** Seconds of audio one run produces (the denominator of the RTF). */
  espeak_audio_s: number;
  espeak_runs: number;
}

export async function measureEspeakRtf(options: EspeakRtfOptions = {}): Promise<EspeakRtfResult> {
  const runs = options.runs ?? 10;
  const tts = defaultConfig().tts;
  const synth = new EspeakSynthesizer({
    ...tts.espeak,
    program: options.program ?? tts.espeak.program,
    warm_processes: 0, // a process started per run, so the first-audio figure keeps the process start
    maxInputChars: tts.max_input_chars,
  });
  const rtfs: number[] = [];
  const firstAudioMs: number[] = [];
  let audioSeconds = 0;
  try {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      let first: number | null = null;
      let samples = 0;
      const request = {
        text: options.text ?? PARAGRAPH,
        voice: options.voice ?? 'en-us',
        speed: 1,
        signal: new AbortController().signal,
      };
      for await (const chunk of synth.synthesize(request)) {
        first ??= performance.now() - started;
        samples += chunk.pcm.length;
      }
      const wallMs = performance.now() - started;
      audioSeconds = samples / ESPEAK_SAMPLE_RATE_HZ;
      rtfs.push(wallMs / 1000 / audioSeconds);
      firstAudioMs.push(first ?? wallMs);
    }
  } finally {
    await synth.close();
  }
  return {
    espeak_rtf: round(percentile(rtfs, 50), 4),
    espeak_first_audio_ms: round(percentile(firstAudioMs, 50), 1),
    espeak_audio_s: round(audioSeconds, 2),
    espeak_runs: runs,
  };
}
