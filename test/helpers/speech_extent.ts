// Ground truth for VAD tests: where speech begins and ends in a CLEAN recording, by a short-time energy rule
// that does not involve Silero (so the VAD is measured against something independent of it).
//
// The rule, in 10 ms frames (160 samples, non-overlapping), frame level = 20 log10(RMS):
//   threshold = max(loudest frame - 35 dB, noise floor + 12 dB), noise floor = 5th percentile of frame levels;
//   a frame is speech when its level >= threshold; onset = start of the first run of >= 5 speech frames (50 ms),
//   offset = end of the last such run.
// Why both terms: the pocketsphinx recordings have room noise 30-45 dB under their peak (the an4 card
// recordings and the LibriVox mp3 excerpts), so a fixed "-35 dB from peak" alone marks room noise as speech;
// the floor term lifts the threshold above the room noise. The 50 ms run ignores clicks and breath bursts.
export const EXTENT_FRAME_SAMPLES = 160;
export const EXTENT_RELATIVE_TO_PEAK_DB = -35;
export const EXTENT_ABOVE_FLOOR_DB = 12;
export const EXTENT_FLOOR_PERCENTILE = 0.05;
export const EXTENT_MIN_RUN_FRAMES = 5;

export interface SpeechExtent {
  /** First speech sample (frame-aligned) and the end of the last speech frame, in 16 kHz samples. */
  onsetSample: number;
  offsetSample: number;
}

export function frameLevelsDb(samples: Float32Array, frameSamples = EXTENT_FRAME_SAMPLES): Float64Array {
  const frames = Math.floor(samples.length / frameSamples);
  const levels = new Float64Array(frames);
  for (let f = 0; f < frames; f++) levels[f] = levelDb(samples, f * frameSamples, (f + 1) * frameSamples);
  return levels;
}

/** RMS level of samples[start, end) in dBFS (full scale = 1.0). */
export function levelDb(samples: Float32Array, start: number, end: number): number {
  let sum = 0;
  const from = Math.max(0, start);
  const to = Math.min(samples.length, end);
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return 10 * Math.log10(sum / Math.max(1, to - from) + 1e-20);
}

export function speechThresholdDb(levels: Float64Array): number {
  const sorted = Float64Array.from(levels).sort();
  const peak = sorted[sorted.length - 1];
  const floor = sorted[Math.floor(EXTENT_FLOOR_PERCENTILE * (sorted.length - 1))];
  return Math.max(peak + EXTENT_RELATIVE_TO_PEAK_DB, floor + EXTENT_ABOVE_FLOOR_DB);
}

export function speechExtent(samples: Float32Array): SpeechExtent {
  const levels = frameLevelsDb(samples);
  if (levels.length === 0) throw new Error('speechExtent: clip shorter than one frame');
  const threshold = speechThresholdDb(levels);
  let firstRunStart = -1;
  let lastRunEnd = -1;
  let runStart = -1;
  for (let f = 0; f <= levels.length; f++) {
    const speech = f < levels.length && levels[f] >= threshold;
    if (speech && runStart < 0) runStart = f;
    if (!speech && runStart >= 0) {
      if (f - runStart >= EXTENT_MIN_RUN_FRAMES) {
        if (firstRunStart < 0) firstRunStart = runStart;
        lastRunEnd = f;
      }
      runStart = -1;
    }
  }
  if (firstRunStart < 0) throw new Error('speechExtent: no speech found in clip');
  return { onsetSample: firstRunStart * EXTENT_FRAME_SAMPLES, offsetSample: lastRunEnd * EXTENT_FRAME_SAMPLES };
}
