// Sample-accurate endpoints. Silero decides in 32 ms windows, and where a window boundary falls relative to
// the speech changes its decision by a window or more (measured: onsets moved by up to 72 ms and offsets by
// up to 112 ms when the same audio was shifted by a fraction of a window; in noise its probability also
// decays for ~300 ms after speech ends). Once Silero has decided, the exact onset and offset are placed by
// short-time energy in 10 ms frames against the local noise floor, which does not depend on the window grid.
// Pure: works on whatever sample accessor it is given.

export interface EndpointRefinerParams {
  /** A frame is speech when its level is at least this far above the noise floor. */
  marginDb: number;
  /** How far from Silero's boundary the exact one may lie. */
  searchSamples: number;
}

export interface SampleSource {
  /** First and one-past-last available absolute sample indices. */
  readonly firstSample: number;
  readonly endSample: number;
  slice(start: number, end: number): Float32Array;
}

export const REFINE_FRAME_SAMPLES = 160; // 10 ms at 16 kHz
/** Noise floor: a low percentile of the frame levels in a stretch of non-speech. */
const FLOOR_PERCENTILE = 0.2;
const MIN_FLOOR_FRAMES = 5;
/** Consecutive speech frames that make an edge (a lone frame above the floor is a click or noise). */
const RUN_FRAMES = 3;
/** Non-speech before an onset used for its noise floor. */
export const ONSET_FLOOR_WINDOW_SAMPLES = 9600; // 600 ms

function frameLevelsDb(source: SampleSource, firstFrame: number, endFrame: number): Float64Array {
  const levels = new Float64Array(Math.max(0, endFrame - firstFrame));
  if (levels.length === 0) return levels;
  const samples = source.slice(firstFrame * REFINE_FRAME_SAMPLES, endFrame * REFINE_FRAME_SAMPLES);
  for (let f = 0; f < levels.length; f++) {
    let sum = 0;
    for (let i = f * REFINE_FRAME_SAMPLES, end = i + REFINE_FRAME_SAMPLES; i < end; i++) sum += samples[i] * samples[i];
    levels[f] = 10 * Math.log10(sum / REFINE_FRAME_SAMPLES + 1e-12);
  }
  return levels;
}

function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(p * (sorted.length - 1))];
}

/** Frame range [first, end) fully inside [fromSample, toSample) and the source. */
function frameRange(source: SampleSource, fromSample: number, toSample: number): [number, number] {
  const first = Math.ceil(Math.max(fromSample, source.firstSample) / REFINE_FRAME_SAMPLES);
  const end = Math.floor(Math.min(toSample, source.endSample) / REFINE_FRAME_SAMPLES);
  return [first, Math.max(first, end)];
}

function floorDb(source: SampleSource, fromSample: number, toSample: number): number | null {
  const [first, end] = frameRange(source, fromSample, toSample);
  if (end - first < MIN_FLOOR_FRAMES) return null;
  return percentile(frameLevelsDb(source, first, end), FLOOR_PERCENTILE);
}

/**
 * The exact onset near Silero's `approx`: the start of the first run of speech frames within the search
 * range, never before `lowest`. Returns `approx` when the audio shows no clear edge.
 */
export function refineOnset(source: SampleSource, approx: number, lowest: number, params: EndpointRefinerParams): number {
  const floor = floorDb(source, approx - params.searchSamples - ONSET_FLOOR_WINDOW_SAMPLES, approx - params.searchSamples);
  if (floor === null) return approx;
  const [first, end] = frameRange(source, Math.max(lowest, approx - params.searchSamples), approx + params.searchSamples);
  const levels = frameLevelsDb(source, first, end);
  const threshold = floor + params.marginDb;
  let run = 0;
  for (let f = 0; f < levels.length; f++) {
    run = levels[f] >= threshold ? run + 1 : 0;
    if (run === RUN_FRAMES) return Math.max(lowest, (first + f - RUN_FRAMES + 1) * REFINE_FRAME_SAMPLES);
  }
  return approx;
}

/**
 * The exact offset at or before Silero's `approx` (end of its last speech window): the end of the last
 * run of speech frames within the search range, measured against the floor of the silence that followed
 * (`silenceEnd`: how far the confirmed silence reaches). Never before `lowest`; `approx` when unclear.
 */
export function refineOffset(source: SampleSource, approx: number, silenceEnd: number, lowest: number, params: EndpointRefinerParams): number {
  const floor = floorDb(source, approx, silenceEnd);
  if (floor === null) return approx;
  const [first, end] = frameRange(source, Math.max(lowest, approx - params.searchSamples), approx);
  const levels = frameLevelsDb(source, first, end);
  const threshold = floor + params.marginDb;
  let run = 0;
  for (let f = levels.length - 1; f >= 0; f--) {
    run = levels[f] >= threshold ? run + 1 : 0;
    if (run === RUN_FRAMES) return Math.min(approx, (first + f + RUN_FRAMES) * REFINE_FRAME_SAMPLES);
  }
  return approx;
}
