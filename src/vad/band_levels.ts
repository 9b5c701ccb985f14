// Speech-band levels for the endpoint refiner. Each 10 ms frame is analysed by a 20 ms Hann window centred
// on it; its power is summed in bands from 300 Hz up (below 300 Hz lie room rumble, HVAC, traffic and other
// low-frequency noise, and nothing a phone line carries) and divided by each band's own noise floor. The mean
// of those ratios is a whitened speech level: 0 dB in stationary noise of any colour, rising when speech
// adds energy to any band. Pure: reads whatever sample accessor it is given.

export const BAND_FRAME_SAMPLES = 160; // 10 ms at 16 kHz
const WINDOW_SAMPLES = 320; // 20 ms
const FFT_SIZE = 512;
const RATE_HZ = 16_000;
/** Band edges in Hz: telephone band in six bands, then the wideband fricative range in three. */
const BAND_EDGES_HZ = [300, 600, 1000, 1500, 2100, 2800, 3400, 4500, 6000, 7800];
export const BAND_COUNT = BAND_EDGES_HZ.length - 1;
/** Lowest band floor (power per bin: white noise at ~-100 dBFS): digital silence must not make a ratio explode. */
const MIN_FLOOR_POWER = 1e-8;

export interface SampleSource {
  /** First and one-past-last available absolute sample indices. */
  readonly firstSample: number;
  readonly endSample: number;
  slice(start: number, end: number): Float32Array;
}

const HANN = Float64Array.from(
  { length: WINDOW_SAMPLES },
  (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / WINDOW_SAMPLES),
);
const BAND_BINS = BAND_EDGES_HZ.map((hz) => Math.round((hz * FFT_SIZE) / RATE_HZ));
const BIT_REVERSED = Uint16Array.from({ length: FFT_SIZE }, (_, i) => {
  let r = 0;
  for (let b = 1, x = i; b < FFT_SIZE; b <<= 1, x >>= 1) r = (r << 1) | (x & 1);
  return r;
});

/** In-place radix-2 FFT of (re, im), length FFT_SIZE. */
function fft(re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < FFT_SIZE; i++) {
    const j = BIT_REVERSED[i];
    if (j > i) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= FFT_SIZE; size <<= 1) {
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < FFT_SIZE; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(step * k);
        const wi = Math.sin(step * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Frames [first, end) whose whole analysis window lies inside [fromSample, toSample) and the source. */
export function bandFrameRange(source: SampleSource, fromSample: number, toSample: number): [number, number] {
  const pad = (WINDOW_SAMPLES - BAND_FRAME_SAMPLES) / 2;
  const first = Math.ceil((Math.max(fromSample, source.firstSample) + pad) / BAND_FRAME_SAMPLES);
  const end = Math.floor((Math.min(toSample, source.endSample) - pad) / BAND_FRAME_SAMPLES);
  return [first, Math.max(first, end)];
}

/** Mean power per bin in each band, frame-major: out[(f - first) * BAND_COUNT + b]. */
export function bandPowers(source: SampleSource, first: number, end: number): Float64Array {
  const frames = Math.max(0, end - first);
  const out = new Float64Array(frames * BAND_COUNT);
  if (frames === 0) return out;
  const pad = (WINDOW_SAMPLES - BAND_FRAME_SAMPLES) / 2;
  const from = first * BAND_FRAME_SAMPLES - pad;
  const samples = source.slice(from, end * BAND_FRAME_SAMPLES + pad);
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  for (let f = 0; f < frames; f++) {
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < WINDOW_SAMPLES; i++) re[i] = samples[f * BAND_FRAME_SAMPLES + i] * HANN[i];
    fft(re, im);
    for (let b = 0; b < BAND_COUNT; b++) {
      let sum = 0;
      for (let k = BAND_BINS[b]; k < BAND_BINS[b + 1]; k++) sum += re[k] * re[k] + im[k] * im[k];
      out[f * BAND_COUNT + b] = sum / (BAND_BINS[b + 1] - BAND_BINS[b]);
    }
  }
  return out;
}

/** Per-band noise floor: the given percentile of each band's frame powers. */
export function bandFloors(powers: Float64Array, percentile: number): Float64Array {
  const frames = powers.length / BAND_COUNT;
  const floors = new Float64Array(BAND_COUNT);
  const column = new Float64Array(frames);
  for (let b = 0; b < BAND_COUNT; b++) {
    for (let f = 0; f < frames; f++) column[f] = powers[f * BAND_COUNT + b];
    column.sort();
    floors[b] = Math.max(MIN_FLOOR_POWER, column[Math.floor(percentile * (frames - 1))]);
  }
  return floors;
}

/** Whitened level of each frame in dB: 10 log10 of the mean over bands of power / floor. */
export function whitenedLevelsDb(powers: Float64Array, floors: Float64Array): Float64Array {
  const frames = powers.length / BAND_COUNT;
  const out = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let b = 0; b < BAND_COUNT; b++) sum += powers[f * BAND_COUNT + b] / floors[b];
    out[f] = 10 * Math.log10(sum / BAND_COUNT);
  }
  return out;
}

/** Speech-band level of each frame in dB (not whitened): the sum of its band powers. */
export function bandSumLevelsDb(powers: Float64Array): Float64Array {
  const frames = powers.length / BAND_COUNT;
  const out = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let b = 0; b < BAND_COUNT; b++) sum += powers[f * BAND_COUNT + b];
    out[f] = 10 * Math.log10(sum + 1e-20);
  }
  return out;
}
