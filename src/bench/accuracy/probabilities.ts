// Silero's speech probabilities recorded once and replayed: the accuracy bench segments each condition
// twice (refinement on and off) from one Silero pass, so both columns see the very same decisions.
import type { SpeechProbabilitySource } from '../../pipeline/detect_speech.ts';
import { getSharedSileroModel } from '../../vad/silero_model.ts';
import { VadBatcher } from '../../vad/vad_batcher.ts';

export interface RecordingSource extends SpeechProbabilitySource {
  readonly probabilities: number[];
  close(): void;
}

/** A Silero stream that keeps every probability in window order. */
export async function recordingSileroSource(): Promise<RecordingSource> {
  const stream = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: 1 }).openStream();
  const probabilities: number[] = [];
  return {
    probabilities,
    async infer(window) {
      const index = probabilities.length;
      probabilities.push(Number.NaN);
      probabilities[index] = await stream.infer(window);
      return probabilities[index];
    },
    close: () => stream.close(),
  };
}

/** Replays recorded probabilities in order (the same windows must be fed again). */
export function replaySource(probabilities: readonly number[]): SpeechProbabilitySource {
  let next = 0;
  return {
    infer() {
      if (next >= probabilities.length)
        return Promise.reject(new Error('replaySource: more windows than were recorded'));
      return Promise.resolve(probabilities[next++]);
    },
  };
}
