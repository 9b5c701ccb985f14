import { defaultConfig } from '../config/schema.ts';
import { turnDetectionFromConfig } from '../pipeline/settings.ts';
import { toTurnParams } from '../pipeline/segment_utterances.ts';
import { VAD_WINDOW_SAMPLES } from '../pipeline/types.ts';
import { getSharedSileroModel } from '../vad/silero_model.ts';
import { TurnStateMachine } from '../vad/turn_state_machine.ts';
import { percentile, round } from './stats.ts';

export interface VadBenchResult {
  window_ms_p50: number;
  window_ms_p99: number;
  rtf: number;
  windows: number;
  audio_seconds: number;
  /** Cost per window when many streams share one batched ONNX run. */
  batched: { streams: number; window_ms: number }[];
}

/**
 * In-process cost of VAD + segmentation per 32 ms window: the Silero run and the turn state machine,
 * timed window by window on real speech; plus the per-window cost when streams are batched.
 */
export async function benchVad(speech16k: Float32Array, batchSizes = [8, 64, 100]): Promise<VadBenchResult> {
  const model = await getSharedSileroModel();
  const settings = turnDetectionFromConfig(defaultConfig().vad);
  const machine = new TurnStateMachine(toTurnParams(settings));
  const state = model.createState();
  const windows = Math.floor(speech16k.length / VAD_WINDOW_SAMPLES);
  const times: number[] = [];
  // Warm-up so one-time allocations in onnxruntime are not counted.
  for (let i = 0; i < 20; i++) await model.runBatch([speech16k.subarray(0, VAD_WINDOW_SAMPLES)], [model.createState()]);
  let total = 0;
  for (let i = 0; i < windows; i++) {
    const window = speech16k.subarray(i * VAD_WINDOW_SAMPLES, (i + 1) * VAD_WINDOW_SAMPLES);
    const t0 = process.hrtime.bigint();
    const [p] = await model.runBatch([window], [state]);
    machine.pushWindow(i * VAD_WINDOW_SAMPLES, p);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    times.push(ms);
    total += ms;
  }
  const batched: VadBenchResult['batched'] = [];
  for (const streams of batchSizes) {
    const states = Array.from({ length: streams }, () => model.createState());
    const rounds = Math.max(10, Math.floor(2000 / streams));
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const batch = states.map((_, s) => {
        const w = ((r * streams + s) % windows) * VAD_WINDOW_SAMPLES;
        return speech16k.subarray(w, w + VAD_WINDOW_SAMPLES);
      });
      await model.runBatch(batch, states);
    }
    batched.push({ streams, window_ms: round(Number(process.hrtime.bigint() - t0) / 1e6 / (rounds * streams), 4) });
  }
  const audioSeconds = (windows * VAD_WINDOW_SAMPLES) / 16000;
  return {
    window_ms_p50: round(percentile(times, 50), 4),
    window_ms_p99: round(percentile(times, 99), 4),
    rtf: round(total / 1000 / audioSeconds, 5),
    windows,
    audio_seconds: round(audioSeconds, 2),
    batched,
  };
}
