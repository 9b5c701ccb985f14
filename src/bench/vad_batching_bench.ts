// `earshot bench vad-batching`: per-window Silero cost run one window at a time versus batched across
// several streams, both as raw SileroModel.runBatch calls ([B, 512] per run) and through VadBatcher (one
// infer() per stream per 32 ms tick). Median tick time over `ticks` ticks of real speech. Figures only.
import { SILERO_SAMPLE_RATE_HZ, SILERO_WINDOW_SAMPLES, SileroModel, type SileroState } from '../vad/silero_model.ts';
import { VadBatcher } from '../vad/vad_batcher.ts';
import { loadBenchSpeech16k } from './bench_audio.ts';
import { percentile, round } from './stats.ts';

export interface VadBatchingOptions {
  /** 32 ms ticks per measurement (200 by default). */
  ticks?: number;
  /** Stream counts measured (8, 64, 100 by default). */
  streamCounts?: number[];
  /** Largest batch VadBatcher runs at once (64 by default, as the server's default). */
  maxBatchStreams?: number;
  audio?: string;
}

export interface VadBatchingRow {
  streams: number;
  /** Median wall time of one tick (every stream's window for one 32 ms step), ms. */
  tick_ms_p50: number;
  window_us: number;
  /** tick_ms_p50 as a share of the 32 ms it covers: % of one core to keep up in real time. */
  realtime_core_pct: number;
  /** Only through VadBatcher: ORT runs per tick. */
  runs_per_tick?: number;
}

export interface VadBatchingResult {
  ticks: number;
  window_ms: number;
  max_batch_streams: number;
  one_run_per_window: VadBatchingRow[];
  one_batched_run_per_tick: VadBatchingRow[];
  through_vad_batcher: VadBatchingRow[];
}

const WINDOW_MS = (SILERO_WINDOW_SAMPLES * 1000) / SILERO_SAMPLE_RATE_HZ;
/** Streams start this many windows apart in the speech, so they are at different places in it. */
const STREAM_OFFSET_WINDOWS = 97;

export async function benchVadBatching(options: VadBatchingOptions = {}): Promise<VadBatchingResult> {
  const ticks = options.ticks ?? 200;
  const counts = options.streamCounts ?? [8, 64, 100];
  const maxBatch = options.maxBatchStreams ?? 64;
  const speech = await loadBenchSpeech16k(options.audio);
  const windowCount = Math.floor(speech.length / SILERO_WINDOW_SAMPLES);
  const windowFor = (stream: number, tick: number) => {
    const w = (tick + stream * STREAM_OFFSET_WINDOWS) % windowCount;
    return speech.subarray(w * SILERO_WINDOW_SAMPLES, (w + 1) * SILERO_WINDOW_SAMPLES);
  };
  const model = await SileroModel.load();
  try {
    await batched(model, counts[0], ticks, windowFor); // warm-up
    const result: VadBatchingResult = {
      ticks,
      window_ms: WINDOW_MS,
      max_batch_streams: maxBatch,
      one_run_per_window: [],
      one_batched_run_per_tick: [],
      through_vad_batcher: [],
    };
    for (const n of [1, ...counts]) result.one_run_per_window.push(row(n, await oneByOne(model, n, ticks, windowFor)));
    for (const n of counts) result.one_batched_run_per_tick.push(row(n, await batched(model, n, ticks, windowFor)));
    for (const n of counts) {
      const { tickMs, runsPerTick } = await throughBatcher(model, n, ticks, maxBatch, windowFor);
      result.through_vad_batcher.push({ ...row(n, tickMs), runs_per_tick: round(runsPerTick, 2) });
    }
    return result;
  } finally {
    await model.dispose();
  }
}

type WindowFor = (stream: number, tick: number) => Float32Array;

function row(streams: number, tickMs: number): VadBatchingRow {
  return {
    streams,
    tick_ms_p50: round(tickMs, 3),
    window_us: round((tickMs * 1000) / streams, 1),
    realtime_core_pct: round((tickMs / WINDOW_MS) * 100, 2),
  };
}

async function medianTickMs(ticks: number, tick: (t: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let t = 0; t < ticks; t++) {
    const started = performance.now();
    await tick(t);
    samples.push(performance.now() - started);
  }
  return percentile(samples, 50);
}

async function oneByOne(model: SileroModel, streams: number, ticks: number, windowFor: WindowFor) {
  const states: SileroState[] = Array.from({ length: streams }, () => model.createState());
  return medianTickMs(ticks, async (t) => {
    for (let s = 0; s < streams; s++) await model.runBatch([windowFor(s, t)], [states[s]]);
  });
}

async function batched(model: SileroModel, streams: number, ticks: number, windowFor: WindowFor) {
  const states: SileroState[] = Array.from({ length: streams }, () => model.createState());
  return medianTickMs(ticks, (t) =>
    model.runBatch(
      Array.from({ length: streams }, (_, s) => windowFor(s, t)),
      states,
    ),
  );
}

async function throughBatcher(
  model: SileroModel,
  streams: number,
  ticks: number,
  maxBatchStreams: number,
  windowFor: WindowFor,
): Promise<{ tickMs: number; runsPerTick: number }> {
  const batcher = new VadBatcher(model, { maxBatchStreams });
  const vadStreams = Array.from({ length: streams }, () => batcher.openStream());
  try {
    const tickMs = await medianTickMs(ticks, (t) => Promise.all(vadStreams.map((v, s) => v.infer(windowFor(s, t)))));
    return { tickMs, runsPerTick: batcher.stats().batches / ticks };
  } finally {
    for (const v of vadStreams) v.close();
  }
}
