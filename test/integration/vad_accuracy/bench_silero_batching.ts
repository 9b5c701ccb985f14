// Benchmark (not a test: wall-clock numbers depend on the machine and its load).
//   npx tsx test/integration/vad_accuracy/bench_silero_batching.ts [ticks]
// Per-window Silero cost run one by one versus batched across 8 / 64 / 100 streams, both as raw
// SileroModel.runBatch calls and through VadBatcher (one infer() per stream per 32 ms tick).
import { performance } from 'node:perf_hooks';
import { SILERO_WINDOW_SAMPLES, SileroModel, type SileroState } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';
import { LIBRIVOX_CLIPS, loadClip } from '../../helpers/speech_fixtures.ts';

const ticks = Number(process.argv[2] ?? 200);
const STREAM_COUNTS = [8, 64, 100];
const WINDOW_MS = (SILERO_WINDOW_SAMPLES * 1000) / 16_000;

const speech = LIBRIVOX_CLIPS.map((id) => loadClip(id));
function windowFor(stream: number, tick: number): Float32Array {
  const clip = speech[stream % speech.length];
  const count = Math.floor(clip.length / SILERO_WINDOW_SAMPLES);
  const w = (tick + stream * 7) % count; // streams at different places in their audio
  return clip.subarray(w * SILERO_WINDOW_SAMPLES, (w + 1) * SILERO_WINDOW_SAMPLES);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function line(label: string, streams: number, tickMs: number): void {
  const perWindowUs = (tickMs * 1000) / streams;
  const coreShare = (tickMs / WINDOW_MS) * 100;
  console.log(
    `${label.padEnd(28)} streams ${String(streams).padStart(3)}  per tick ${tickMs.toFixed(3)} ms  ` +
      `per window ${perWindowUs.toFixed(1)} us  real-time core share ${coreShare.toFixed(1)} %`,
  );
}

async function oneByOne(model: SileroModel, streams: number): Promise<number> {
  const states: SileroState[] = Array.from({ length: streams }, () => model.createState());
  const samples: number[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const start = performance.now();
    for (let s = 0; s < streams; s++) await model.runBatch([windowFor(s, tick)], [states[s]]);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function batched(model: SileroModel, streams: number): Promise<number> {
  const states: SileroState[] = Array.from({ length: streams }, () => model.createState());
  const samples: number[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const windows = Array.from({ length: streams }, (_, s) => windowFor(s, tick));
    const start = performance.now();
    await model.runBatch(windows, states);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function throughBatcher(
  model: SileroModel,
  streams: number,
): Promise<{ tickMs: number; batchesPerTick: number }> {
  const batcher = new VadBatcher(model, { maxBatchStreams: 64 });
  const vadStreams = Array.from({ length: streams }, () => batcher.openStream());
  const samples: number[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const start = performance.now();
    await Promise.all(vadStreams.map((stream, s) => stream.infer(windowFor(s, tick))));
    samples.push(performance.now() - start);
  }
  for (const stream of vadStreams) stream.close();
  return { tickMs: median(samples), batchesPerTick: batcher.stats().batches / ticks };
}

const model = await SileroModel.load();
await batched(model, 8); // warm-up
console.log(`Silero v4, ${ticks} ticks of 32 ms per measurement, median tick time, intra/inter-op threads 1`);
for (const streams of [1, ...STREAM_COUNTS]) line('one run per window', streams, await oneByOne(model, streams));
for (const streams of STREAM_COUNTS) line('one [B,512] run per tick', streams, await batched(model, streams));
for (const streams of STREAM_COUNTS) {
  const { tickMs, batchesPerTick } = await throughBatcher(model, streams);
  line(`VadBatcher (max 64/run, ${batchesPerTick.toFixed(0)} runs)`, streams, tickMs);
}
await model.dispose();
