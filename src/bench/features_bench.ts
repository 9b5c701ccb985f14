// Throughput of the log-mel front end on 40 s of 16 kHz audio (one full encoder chunk). Wired to
// `earshot bench features` by the CLI; never run from tests (timings depend on the machine's load).
import { LogMelExtractor } from '../engine/phi4mm/features.ts';

export interface FeaturesBenchResult {
  audio_seconds: number;
  ms_p50: number;
  ms_min: number;
  /** audio duration / median extraction time. */
  x_realtime: number;
}

export interface FeaturesBenchOptions {
  runs?: number;
  warmupRuns?: number;
  audioSeconds?: number;
}

const BENCH_SAMPLE_RATE_HZ = 16000;

/** Deterministic speech-like test signal: harmonics under a slow envelope plus a little LCG noise. */
function benchSignal(sampleCount: number): Float32Array {
  const samples = new Float32Array(sampleCount);
  let state = 12345;
  for (let i = 0; i < sampleCount; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const t = i / BENCH_SAMPLE_RATE_HZ;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 0.7 * t);
    samples[i] =
      envelope * (0.3 * Math.sin(2 * Math.PI * 180 * t) + 0.1 * Math.sin(2 * Math.PI * 2300 * t)) +
      0.01 * (state / 2 ** 32 - 0.5);
  }
  return samples;
}

export function benchFeatures(options: FeaturesBenchOptions = {}): FeaturesBenchResult {
  const runs = Math.max(1, options.runs ?? 21);
  const warmupRuns = Math.max(0, options.warmupRuns ?? 5);
  const audioSeconds = options.audioSeconds ?? 40;
  const samples = benchSignal(Math.round(audioSeconds * BENCH_SAMPLE_RATE_HZ));
  const extractor = new LogMelExtractor(BENCH_SAMPLE_RATE_HZ);
  // Keep a data dependency on each result so the work cannot be optimised away.
  let checksum = 0;
  for (let i = 0; i < warmupRuns; i++) checksum += extractor.extract(samples).data[0];
  const timesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    checksum += extractor.extract(samples).data[0];
    timesMs.push(performance.now() - start);
  }
  if (Number.isNaN(checksum)) throw new Error('benchFeatures: extraction produced NaN');
  timesMs.sort((a, b) => a - b);
  const middle = timesMs.length >> 1;
  const msP50 = timesMs.length % 2 === 1 ? timesMs[middle] : (timesMs[middle - 1] + timesMs[middle]) / 2;
  const round = (value: number, digits: number): number => Number(value.toFixed(digits));
  return {
    audio_seconds: audioSeconds,
    ms_p50: round(msP50, 3),
    ms_min: round(timesMs[0], 3),
    x_realtime: round((audioSeconds * 1000) / msP50, 1),
  };
}
