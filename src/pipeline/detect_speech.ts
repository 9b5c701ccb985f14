import { concatMap, type OperatorFunction } from 'rxjs';
import type { FramedItem } from './types.ts';

/** The part of a VAD stream this operator needs (src/vad/vad_batcher.ts provides it). */
export interface SpeechProbabilitySource {
  infer(window: Float32Array): Promise<number>;
}

/**
 * Attaches a Silero speech probability to each window while turn detection is on. Windows are inferred
 * strictly in order (the model state is recurrent); the batcher behind `source` runs windows of many
 * connections in one ONNX call.
 */
export function detectSpeech(source: SpeechProbabilitySource): OperatorFunction<FramedItem, FramedItem> {
  return (input$) => {
    let active = true;
    return input$.pipe(
      concatMap(async (item) => {
        if (item.type === 'configure') active = item.turnDetection !== null;
        if (item.type !== 'window' || !active) return item;
        const probability = await source.infer(item.samples);
        return { ...item, probability };
      }),
    );
  };
}

