// Benchmark piece of `earshot bench tts`: what the streaming stage adds to the engine's first audio.
// Alternating trials in one run: espeak-ng alone speaking the answer's first sentence (the baseline), then
// a SpeechStream fed the whole answer word by word (splitter, pipelining, resampling to 24 kHz included).
import { defaultConfig } from '../../config/schema.ts';
import { EspeakSynthesizer } from '../../tts/espeak_synthesizer.ts';
import { openSpeechStream } from '../../tts/index.ts';
import { percentile, round } from '../stats.ts';

const FIRST_SENTENCE = 'Sure, the train to Lyon leaves from platform nine at a quarter past ten.';
const ANSWER = `${FIRST_SENTENCE} It takes about two hours, and there is a dining car.`;

export interface SpeechStreamFirstAudioResult {
  /** Median ms from the first text delta to the stream's first 24 kHz audio. */
  stream_first_audio_ms: number;
  /** Baseline, same run: median ms from spawning espeak-ng on the first sentence to its first PCM chunk. */
  espeak_first_audio_ms: number;
  trials: number;
}

export async function measureSpeechStreamFirstAudio(trials = 20): Promise<SpeechStreamFirstAudioResult> {
  const tts = defaultConfig().tts;
  const synth = new EspeakSynthesizer({ ...tts.espeak, maxInputChars: tts.max_input_chars });
  const alone: number[] = [];
  const streamed: number[] = [];
  try {
    for (let i = 0; i < trials; i++) {
      const controller = new AbortController();
      let started = performance.now();
      const direct = synth.synthesize({ text: FIRST_SENTENCE, voice: 'en-us', speed: 1, signal: controller.signal });
      await direct.next();
      alone.push(performance.now() - started);
      controller.abort();
      await direct.return(undefined);

      const stream = openSpeechStream(synth, tts, { voice: 'alloy' });
      const audio = stream.audio[Symbol.asyncIterator]();
      started = performance.now();
      const first = audio.next();
      for (const word of ANSWER.split(' ')) stream.push(`${word} `);
      stream.end();
      await first;
      streamed.push(performance.now() - started);
      stream.cancel();
    }
  } finally {
    await synth.close();
  }
  return {
    stream_first_audio_ms: round(percentile(streamed, 50), 1),
    espeak_first_audio_ms: round(percentile(alone, 50), 1),
    trials,
  };
}
