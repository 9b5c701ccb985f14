// Phi-4-multimodal's mel filterbank (speechlib_mel in processing_phi4mm.py, docs/model.md, "Audio features"): 80 triangles in
// Kaldi mel space between 0 and 7690 Hz over a 512-point FFT at 16 kHz, FFT bins 1..245 only, and no area
// normalisation (every triangle peaks at 1). The 8 kHz path reuses this same matrix on zero-filled spectra.

export const MEL_FILTER_COUNT = 80;
export const MEL_SAMPLE_RATE_HZ = 16000;
export const MEL_FFT_SIZE = 512;
export const MEL_SPECTRUM_BINS = MEL_FFT_SIZE / 2 + 1; // 257
const MEL_LOW_HZ = 0;
const MEL_HIGH_HZ = 7690;

/** Kaldi's mel scale. */
export function hzToMel(frequencyHz: number): number {
  return 1127 * Math.log(1 + frequencyHz / 700);
}

/**
 * One filter per row, only its non-zero span: weights of filter m live in
 * `weights[offsets[m] .. offsets[m + 1])` and apply to spectrum bins `startBins[m] ..`. Each bin feeds at
 * most two neighbouring filters, so the whole product costs about 2 x 245 multiply-adds per frame instead of
 * 80 x 257 for the dense matrix.
 */
export interface MelFilterbank {
  readonly filterCount: number;
  readonly spectrumBins: number;
  readonly startBins: Int32Array;
  readonly offsets: Int32Array; // filterCount + 1 entries
  readonly weights: Float64Array; // float32-rounded, like the reference matrix
}

/** Dense float32 weight of filter `m` at `bin`, straight from the reference formula. */
function filterWeight(centersMel: Float64Array, spacingMel: number, m: number, bin: number): number {
  const binMel = hzToMel((bin * MEL_SAMPLE_RATE_HZ) / MEL_FFT_SIZE);
  const left = centersMel[m];
  const center = centersMel[m + 1];
  const right = centersMel[m + 2];
  if (!(left < binMel && binMel < right)) return 0;
  // The reference measures the distance against the global mel spacing, not the triangle's own half-width;
  // with equally spaced centres the two agree up to rounding.
  return Math.fround(1 - Math.abs(center - binMel) / spacingMel);
}

/** The 82 equally spaced mel points, computed like numpy.linspace (start + i * step, last point exact). */
function melCenters(): Float64Array {
  const lowMel = hzToMel(MEL_LOW_HZ);
  const highMel = hzToMel(MEL_HIGH_HZ);
  const count = MEL_FILTER_COUNT + 2;
  const stepMel = (highMel - lowMel) / (count - 1);
  const centers = new Float64Array(count);
  for (let i = 0; i < count; i++) centers[i] = lowMel + i * stepMel;
  centers[count - 1] = highMel;
  return centers;
}

/** FFT bins the reference considers: [round(fmin) + 1, round(fmax) - 1] = 1..245. */
function usedBinRange(): { firstBin: number; endBin: number } {
  const toBin = (frequencyHz: number): number => Math.floor((frequencyHz * MEL_FFT_SIZE) / MEL_SAMPLE_RATE_HZ + 0.5);
  const firstBin = toBin(MEL_LOW_HZ) + 1;
  const endBin = Math.max(toBin(MEL_HIGH_HZ), firstBin);
  return { firstBin, endBin };
}

/** The dense `[80][257]` float32 matrix, for tests and debugging. */
export function melFilterMatrix(): Float32Array {
  const centers = melCenters();
  const spacingMel = (centers[centers.length - 1] - centers[0]) / (MEL_FILTER_COUNT + 1);
  const { firstBin, endBin } = usedBinRange();
  const matrix = new Float32Array(MEL_FILTER_COUNT * MEL_SPECTRUM_BINS);
  for (let m = 0; m < MEL_FILTER_COUNT; m++) {
    for (let bin = firstBin; bin < endBin; bin++) {
      matrix[m * MEL_SPECTRUM_BINS + bin] = filterWeight(centers, spacingMel, m, bin);
    }
  }
  return matrix;
}

let cachedFilterbank: MelFilterbank | undefined;

/** The sparse filterbank, built once per process on first use (no work at import time). */
export function melFilterbank(): MelFilterbank {
  if (cachedFilterbank) return cachedFilterbank;
  const dense = melFilterMatrix();
  const startBins = new Int32Array(MEL_FILTER_COUNT);
  const offsets = new Int32Array(MEL_FILTER_COUNT + 1);
  const spans: number[][] = [];
  for (let m = 0; m < MEL_FILTER_COUNT; m++) {
    const row = dense.subarray(m * MEL_SPECTRUM_BINS, (m + 1) * MEL_SPECTRUM_BINS);
    // A triangle's non-zero weights are contiguous, so the span is first..last non-zero bin.
    const first = row.findIndex((w) => w !== 0);
    let last = first;
    for (let bin = first; bin >= 0 && bin < MEL_SPECTRUM_BINS; bin++) if (row[bin] !== 0) last = bin;
    const span = first < 0 ? [] : Array.from(row.subarray(first, last + 1));
    startBins[m] = Math.max(first, 0);
    offsets[m + 1] = offsets[m] + span.length;
    spans.push(span);
  }
  const weights = new Float64Array(offsets[MEL_FILTER_COUNT]);
  spans.forEach((span, m) => weights.set(span, offsets[m]));
  cachedFilterbank = { filterCount: MEL_FILTER_COUNT, spectrumBins: MEL_SPECTRUM_BINS, startBins, offsets, weights };
  return cachedFilterbank;
}

/**
 * `out[m] = ln(max(sum_k power[k] * W[m][k], 1))`, written as float32 into `out[outOffset + m]`.
 * The floor of 1.0 (not a tiny epsilon) is the reference's; silence therefore maps to exactly 0.
 */
export function applyLogMel(
  filterbank: MelFilterbank,
  power: Float64Array,
  out: Float32Array,
  outOffset: number,
): void {
  const { startBins, offsets, weights, filterCount } = filterbank;
  for (let m = 0; m < filterCount; m++) {
    const end = offsets[m + 1];
    let bin = startBins[m];
    let sum = 0;
    for (let i = offsets[m]; i < end; i++, bin++) sum += power[bin] * weights[i];
    out[outOffset + m] = sum > 1 ? Math.log(sum) : 0;
  }
}
