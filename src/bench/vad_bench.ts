import { defaultConfig } from '../config/schema.ts';
import { turnDetectionFromConfig } from '../pipeline/settings.ts';
import { toTurnParams } from '../pipeline/segment_utterances.ts';
import { VAD_WINDOW_SAMPLES } from '../pipeline/types.ts';
import { getSharedSileroModel } from '../vad/silero_model.ts';
import { TurnStateMachine } from '../vad/turn_state_machine.ts';
import { VadBatcher } from '../vad/vad_batcher.ts';
import { WorkerVadPool } from '../vad/worker_vad_model.ts';
import { percentile, round } from './stats.ts';

export interface VadBenchResult {
  window_ms_p50: number;
  window_ms_p99: number;
  rtf: number;
  windows: number;
  audio_seconds: number;
  /** Cost per window when many streams share one batched ONNX run. */
  batched: { streams: number; window_ms: number }[];
  /**
   * Throughput of the server's VAD path (batcher + worker threads, vad.worker_threads) with every stream's
   * windows queued at once, and the real-time streams that rate sustains (31.25 windows/s each) if the VAD
   * threads had their cores to themselves.
   */
  worker_threads: { threads: number; windows_per_s: number; realtime_streams: number }[];
}

const WINDOWS_PER_SECOND = 16_000 / VAD_WINDOW_SAMPLES;

/** Windows per second through a VadBatcher on `threads` VAD worker threads, `streams` streams catching up. */
async function workerThroughput(
  speech16k: Float32Array,
  threads: number,
  streams = 256,
  windowsPerStream = 40,
): Promise<number> {
  const model = await WorkerVadPool.start(threads);
  try {
    const run = async (perStream: number): Promise<number> => {
      const batcher = new VadBatcher(model, { maxBatchStreams: 128, maxBatchesInFlight: threads });
      const handles = Array.from({ length: streams }, () => batcher.openStream());
      const total = Math.floor(speech16k.length / VAD_WINDOW_SAMPLES);
      const t0 = performance.now();
      await Promise.all(
        handles.flatMap((stream, s) =>
          Array.from({ length: perStream }, (_, i) => {
            const w = ((s * 17 + i) % total) * VAD_WINDOW_SAMPLES;
            return stream.infer(speech16k.subarray(w, w + VAD_WINDOW_SAMPLES));
          }),
        ),
      );
      const seconds = (performance.now() - t0) / 1000;
      for (const stream of handles) stream.close();
      return (streams * perStream) / seconds;
    };
    await run(4); // warm-up
    return await run(windowsPerStream);
  } finally {
    await model.dispose();
  }
}

/**
 * In-process cost of VAD + segmentation per 32 ms window: the Silero run and the turn state machine,
 * timed window by window on real speech; plus the per-window cost when streams are batched, and the
 * throughput of the batcher on one and two VAD worker threads.
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
  const workerThreads: VadBenchResult['worker_threads'] = [];
  for (const threads of [1, 2]) {
    const windowsPerS = await workerThroughput(speech16k, threads);
    workerThreads.push({
      threads,
      windows_per_s: Math.round(windowsPerS),
      realtime_streams: Math.floor(windowsPerS / WINDOWS_PER_SECOND),
    });
  }
  const audioSeconds = (windows * VAD_WINDOW_SAMPLES) / 16000;
  return {
    window_ms_p50: round(percentile(times, 50), 4),
    window_ms_p99: round(percentile(times, 99), 4),
    rtf: round(total / 1000 / audioSeconds, 5),
    windows,
    audio_seconds: round(audioSeconds, 2),
    batched,
    worker_threads: workerThreads,
  };
}
