// Sample-accurate endpoints. Silero decides in 32 ms windows, and where a window boundary falls relative to
// the speech changes its decision by a window or more (measured: onsets moved by up to 72 ms and offsets by
// up to 112 ms when the same audio was shifted by a fraction of a window); in noise its probability also
// decays for ~300 ms after speech ends, and on band-limited phone audio it lets go of weak word endings
// early. Once Silero has decided, the exact onset and offset are placed on the whitened speech-band level
// (band_levels.ts) in 10 ms frames: broadband energy is ruled by low-frequency noise (brown noise, HVAC,
// traffic), while per-band floors make noise of any colour read 0 dB. When the audio shows no clear edge,
// or the noise around it is not steady enough to trust, Silero's boundary is kept.
// Pure: works on whatever sample accessor it is given.
import {
  BAND_FRAME_SAMPLES,
  bandFloors,
  bandSumLevelsDb,
  bandFrameRange,
  bandPowers,
  whitenedLevelsDb,
  type SampleSource,
} from './band_levels.ts';

export type { SampleSource } from './band_levels.ts';

export interface EndpointRefinerParams {
  /** A run of frames this far above the noise floor (whitened speech-band level) is certainly speech. */
  marginDb: number;
  /** How far from Silero's boundary the exact one may lie. */
  searchSamples: number;
}

export const REFINE_FRAME_SAMPLES = BAND_FRAME_SAMPLES;
/** Noise floor per band: this percentile of the frames of a stretch Silero called non-speech (a low one,
 * so a speech tail or breath inside the stretch does not lift it). */
const FLOOR_PERCENTILE = 0.3;
const MIN_FLOOR_FRAMES = 10;
/** Weak speech must also read above what the noise alone reaches in nine frames of ten, plus 1 dB
 * (a fixed 3 dB is within the noise's own frame-to-frame spread, and onsets chained back across it). */
const NOISE_HIGH_PERCENTILE = 0.9;
const NOISE_HIGH_MARGIN_DB = 1;
/** Weak speech leading into an onset lies within this much of the onset's first certain frames. */
const ONSET_BELOW_ANCHOR_DB = 20;
/** A refined onset within this of Silero's is not told apart from it (10 ms frames analysed through a
 * 20 ms window against Silero's 32 ms windows): Silero's is kept. Measured: moving such onsets by 10-20 ms
 * made the median onset error worse than Silero's at 30 dB SNR (the window's leakage reads early). */
export const ONSET_SAME_AS_SILERO_SAMPLES = 256; // 16 ms, half a Silero window
/** An offset search reaches this many times the onset search range back from Silero's offset: in brown and
 * pink noise Silero fades out for up to ~500 ms, and a range it sometimes exceeded made offsets jump with
 * the grid phase. */
const OFFSET_SEARCH_FACTOR = 2;
/** An offset is only moved earlier than Silero's when the speech before it reached this far above the
 * floor: at lower SNR weak word endings sit under the noise, and cutting there lost speech Silero had kept
 * (white noise, 10 dB SNR: offset p90 240 ms against Silero's 132). */
const MIN_CUT_SPEECH_DB = 20;
/** Consecutive frames above the margin that make an edge (a lone frame above it is a click or noise). */
const RUN_FRAMES = 3;
/** Speech continues (weak onsets, sustained low-level tails) while the level stays this far above the floor. */
const CONTINUE_DB = 3;
/** ...and a tail no more than this far below the loudest frame near the edge (speech-band level): at high
 * SNR, room tone, breath and lip noise sit above the floor too, but far below the speech (a clean
 * recording's speech ends where it falls ~35 dB under its peak). */
const TAIL_BELOW_PEAK_DB = 35;
/** Frames under CONTINUE_DB bridged inside a weak stretch (stop closures, short dips). */
const MAX_DIP_FRAMES = 2;
/** The floor stretch is not trusted when this share of its frames already reads as speech. */
const MAX_LOUD_FLOOR_SHARE = 0.25;
/** Non-speech before an onset used for its noise floor. */
export const ONSET_FLOOR_WINDOW_SAMPLES = 9600; // 600 ms
/** How far past Silero's last speech window a sustained tail may carry the offset. */
export const TAIL_EXTENSION_SAMPLES = 4000; // 250 ms

interface Levels {
  first: number;
  /** Whitened level (against the per-band floors) and plain speech-band level of each frame, dB. */
  levels: Float64Array;
  bandDb: Float64Array;
  /** Level that weak speech must reach: CONTINUE_DB, or above what the noise alone reaches in most frames. */
  continueDb: number;
}

/** Whitened levels over [from, to) against the floors of [floorFrom, floorTo); null when the floor is not trustworthy. */
function levelsAgainstFloor(
  source: SampleSource,
  floorFrom: number,
  floorTo: number,
  from: number,
  to: number,
  marginDb: number,
): Levels | null {
  const [floorFirst, floorEnd] = bandFrameRange(source, floorFrom, floorTo);
  if (floorEnd - floorFirst < MIN_FLOOR_FRAMES) return null;
  const floors = bandFloors(bandPowers(source, floorFirst, floorEnd), FLOOR_PERCENTILE);
  const floorLevels = whitenedLevelsDb(bandPowers(source, floorFirst, floorEnd), floors);
  let loud = 0;
  for (const level of floorLevels) if (level >= marginDb) loud++;
  if (loud > MAX_LOUD_FLOOR_SHARE * floorLevels.length) return null;
  const [first, end] = bandFrameRange(source, from, to);
  const powers = bandPowers(source, first, end);
  const sorted = Float64Array.from(floorLevels).sort();
  const noiseHighDb = sorted[Math.floor(NOISE_HIGH_PERCENTILE * (sorted.length - 1))];
  return {
    first,
    levels: whitenedLevelsDb(powers, floors),
    bandDb: bandSumLevelsDb(powers),
    continueDb: Math.max(CONTINUE_DB, noiseHighDb + NOISE_HIGH_MARGIN_DB),
  };
}

function maxOf(values: Float64Array): number {
  let max = -Infinity;
  for (const v of values) max = Math.max(max, v);
  return max;
}

/** Index of the first frame of the first run of RUN_FRAMES frames at or above `db`, at or after `from`; -1 if none. */
function firstRun(levels: Float64Array, from: number, db: number): number {
  let run = 0;
  for (let f = Math.max(0, from); f < levels.length; f++) {
    run = levels[f] >= db ? run + 1 : 0;
    if (run === RUN_FRAMES) return f - RUN_FRAMES + 1;
  }
  return -1;
}

/** One past the last frame of the last run of RUN_FRAMES frames at or above `db`, before `to`; -1 if none. */
function lastRunEnd(levels: Float64Array, to: number, db: number): number {
  let run = 0;
  for (let f = Math.min(levels.length, to) - 1; f >= 0; f--) {
    run = levels[f] >= db ? run + 1 : 0;
    if (run === RUN_FRAMES) return f + RUN_FRAMES;
  }
  return -1;
}

/** From frame `at`, how far a sustained weak tail (>= CONTINUE_DB, dips of at most MAX_DIP_FRAMES) carries on. */
function extendTail({ levels, bandDb }: Levels, at: number): number {
  const peak = maxOf(bandDb);
  let edge = at;
  let dip = 0;
  for (let f = at + 1; f < levels.length; f++) {
    if (levels[f] >= CONTINUE_DB && bandDb[f] >= peak - TAIL_BELOW_PEAK_DB) {
      edge = f;
      dip = 0;
    } else if (++dip > MAX_DIP_FRAMES) break;
  }
  return edge;
}

/** From the anchor run at `start`, back over the weak speech that leads into it: frames at continueDb or
 * more and within ONSET_BELOW_ANCHOR_DB of the anchor run's loudest frame (the anchor alone, so the
 * result does not depend on how much audio past it was seen), dips of at most MAX_DIP_FRAMES bridged. */
function extendOnset({ levels, bandDb, continueDb }: Levels, start: number): number {
  let peak = -Infinity;
  for (let f = start; f < Math.min(levels.length, start + RUN_FRAMES); f++) peak = Math.max(peak, bandDb[f]);
  let edge = start;
  let dip = 0;
  for (let f = start - 1; f >= 0; f--) {
    if (levels[f] >= continueDb && bandDb[f] >= peak - ONSET_BELOW_ANCHOR_DB) {
      edge = f;
      dip = 0;
    } else if (++dip > MAX_DIP_FRAMES) break;
  }
  return edge;
}

/** Moving an offset earlier than Silero's needs the audio in between to read as noise: on band-limited
 * phone audio Silero often lets go of a word's end early already, and noisy weak speech there flickers
 * above and below the continuation level. */
const MAX_LOUD_SHARE_CUT = 0.2;
function quietBetween(levels: Float64Array, from: number, to: number): boolean {
  if (to <= from) return true;
  let loud = 0;
  for (let f = from; f < to; f++) if (levels[f] >= CONTINUE_DB) loud++;
  return loud <= MAX_LOUD_SHARE_CUT * (to - from);
}

/**
 * The exact onset near Silero's `approx`: where the loud stretch holding the first certain run of speech at
 * or after `approx` begins, carried back over the weak speech before it (at most the search range); never
 * before `lowest`. `approx` when unclear, or when the refined onset is within half a Silero window of it.
 */
export function refineOnset(
  source: SampleSource,
  approx: number,
  lowest: number,
  params: EndpointRefinerParams,
  /** Read no audio from here on (live and offline must agree whatever the chunking). */
  seenEnd = Number.POSITIVE_INFINITY,
): number {
  const from = Math.max(lowest, approx - params.searchSamples);
  const floorTo = approx - params.searchSamples;
  const to = Math.min(approx + params.searchSamples, seenEnd);
  const found = levelsAgainstFloor(source, floorTo - ONSET_FLOOR_WINDOW_SAMPLES, floorTo, from, to, params.marginDb);
  if (!found) return approx;
  // Anchor at the certain speech Silero confirmed: the first certain run from Silero's onset on (a breath
  // or click earlier in the search range is not the start of this speech), walked back to where that loud
  // stretch begins, so the anchor does not depend on where Silero's 32 ms grid put its onset.
  const approxFrame = Math.floor(approx / BAND_FRAME_SAMPLES) - found.first;
  const run = firstRun(found.levels, approxFrame, params.marginDb);
  if (run < 0) return approx;
  let start = run;
  while (start > 0 && found.levels[start - 1] >= params.marginDb) start--;
  const onsetFrame = extendOnset(found, start);
  const refined = (found.first + onsetFrame) * BAND_FRAME_SAMPLES;
  if (Math.abs(refined - approx) <= ONSET_SAME_AS_SILERO_SAMPLES) return approx;
  return Math.max(lowest, refined);
}

/**
 * The exact offset near Silero's `approx` (end of its last speech window): the end of the last certain run
 * of speech at or before `approx` (searched back OFFSET_SEARCH_FACTOR times the search range), carried
 * forward over a sustained weak tail (at most TAIL_EXTENSION_SAMPLES past `approx`), measured against the floor of the silence that followed
 * (`silenceEnd`: how far the confirmed silence reaches). Never before `lowest`; `approx` when unclear.
 */
export function refineOffset(
  source: SampleSource,
  approx: number,
  silenceEnd: number,
  lowest: number,
  params: EndpointRefinerParams,
  /** Silero ended decisively: keep its offset unless a sustained tail carries it later. */
  keepUnlessLater = false,
): number {
  const limit = Math.min(silenceEnd, approx + TAIL_EXTENSION_SAMPLES);
  const found = levelsAgainstFloor(
    source,
    approx,
    silenceEnd,
    Math.max(lowest, approx - params.searchSamples * OFFSET_SEARCH_FACTOR),
    limit,
    params.marginDb,
  );
  if (!found) return approx;
  const approxFrame = Math.floor(approx / BAND_FRAME_SAMPLES) - found.first;
  const end = lastRunEnd(found.levels, approxFrame, params.marginDb);
  if (end < 0) return approx;
  const lastFrame = extendTail(found, end - 1);
  // The frame right after the edge still sees the speech through its 20 ms window: it is not counted.
  if (!quietBetween(found.levels, lastFrame + 2, approxFrame)) return approx;
  const offset = Math.max(lowest, Math.min(limit, (found.first + lastFrame + 1) * BAND_FRAME_SAMPLES));
  return keepUnlessLater || maxOf(found.levels) < MIN_CUT_SPEECH_DB ? Math.max(offset, approx) : offset;
}
