import type { OperatorFunction } from 'rxjs';
import { FrameAccumulator } from '../audio/framing.ts';
import { expandEach } from './operators.ts';
import { VAD_WINDOW_SAMPLES, type FramedItem, type PipelineInput } from './types.ts';

/**
 * Positions audio on the 16 kHz sample clock and cuts it into 512-sample VAD windows. Each audio item is
 * passed on (the segmenter keeps the samples) followed by the windows it completed; control items are
 * stamped with the sample position they apply at, so they act exactly between the audio around them.
 */
export function reframe(windowSamples = VAD_WINDOW_SAMPLES): OperatorFunction<PipelineInput, FramedItem> {
  return (input$) => {
    const frames = new FrameAccumulator(windowSamples);
    let receivedSamples = 0;
    let nextWindowStart = 0;
    return input$.pipe(
      expandEach((item): FramedItem[] => {
        if (item.type !== 'audio') return [{ ...item, atSample: receivedSamples } as FramedItem];
        const out: FramedItem[] = [
          { type: 'audio', startSample: receivedSamples, samples16k: item.samples16k, samples8k: item.samples8k },
        ];
        receivedSamples += item.samples16k.length;
        for (const window of frames.push(item.samples16k)) {
          out.push({ type: 'window', startSample: nextWindowStart, samples: window });
          nextWindowStart += windowSamples;
        }
        return out;
      }),
    );
  };
}
