import type { OperatorFunction } from 'rxjs';
import { mapOrdered } from './operators.ts';
import type { FramedItem } from './types.ts';

/** The part of a VAD stream this operator needs (src/vad/vad_batcher.ts provides it). */
export interface SpeechProbabilitySource {
  infer(window: Float32Array): Promise<number>;
}

/**
 * Attaches a Silero speech probability to each window while turn detection is on. Every window is
 * submitted the moment it arrives (the VAD stream queues them in order and runs them through its
 * recurrent state one by one), and results are emitted strictly in arrival order. Submitting eagerly
 * matters under load: a connection that fell behind catches up in one batcher flush instead of one
 * window per event-loop turn.
 */
export function detectSpeech(source: SpeechProbabilitySource): OperatorFunction<FramedItem, FramedItem> {
  return (input$) => {
    let active = true;
    return input$.pipe(
      mapOrdered((item): FramedItem | Promise<FramedItem> => {
        if (item.type === 'configure') active = item.turnDetection !== null;
        if (item.type !== 'window' || !active) return item;
        const pending = source.infer(item.samples).then((probability) => ({ ...item, probability }));
        // Windows still queued when the connection closes are rejected (E_ABORTED) after nobody awaits
        // them any more; mark them handled so a normal close never looks like an unhandled rejection.
        pending.catch(() => undefined);
        return pending;
      }),
    );
  };
}
