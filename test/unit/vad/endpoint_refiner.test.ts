import { describe, expect, it } from 'vitest';
import { colouredNoise } from '../../../src/bench/accuracy/noise.ts';
import {
  ONSET_SAME_AS_SILERO_SAMPLES,
  REFINE_FRAME_SAMPLES,
  refineOffset,
  refineOnset,
  type SampleSource,
} from '../../../src/vad/endpoint_refiner.ts';

function source(samples: Float32Array, firstSample = 0): SampleSource {
  return {
    firstSample,
    endSample: firstSample + samples.length,
    slice: (a, b) => samples.slice(a - firstSample, b - firstSample),
  };
}

/** Noise at -50 dBFS with a 440 Hz tone at -20 dBFS over [on, off). */
function signal(length: number, on: number, off: number, seed = 1): Float32Array {
  let x = seed;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out[i] = ((x / 2 ** 31) * 2 - 1) * 0.0055;
    if (i >= on && i < off) out[i] += 0.14 * Math.sin((2 * Math.PI * 440 * i) / 16000);
  }
  return out;
}

const params = { marginDb: 9, searchSamples: 5120 };

describe('endpoint refiner', () => {
  it('finds the onset and offset to within one 10 ms frame, wherever Silero put its window edge', () => {
    const on = 20_000;
    const off = 40_000;
    const s = source(signal(60_000, on, off));
    for (const approx of [on - 1500, on - 600, on + 700, on + 2000]) {
      expect(Math.abs(refineOnset(s, approx, 0, params) - on)).toBeLessThanOrEqual(REFINE_FRAME_SAMPLES);
    }
    // Within half a Silero window of the edge, Silero's onset is kept: the refiner cannot tell them apart.
    for (const approx of [on - 200, on, on + 50]) expect(refineOnset(s, approx, 0, params)).toBe(approx);
    expect(ONSET_SAME_AS_SILERO_SAMPLES + REFINE_FRAME_SAMPLES).toBeLessThan(600);
    for (const approx of [off, off + 1000, off + 4000]) {
      expect(Math.abs(refineOffset(s, approx, approx + 8000, on, params) - off)).toBeLessThanOrEqual(
        REFINE_FRAME_SAMPLES,
      );
    }
  });

  it('never goes below the lower bound or past the offset approximation', () => {
    const s = source(signal(60_000, 20_000, 40_000));
    expect(refineOnset(s, 20_500, 20_300, params)).toBeGreaterThanOrEqual(20_300);
    expect(refineOffset(s, 38_000, 46_000, 20_000, params)).toBeLessThanOrEqual(38_000);
  });

  it('keeps the approximation when there is no clear edge or too little audio', () => {
    const flat = source(signal(60_000, 0, 0));
    expect(refineOnset(flat, 30_000, 0, params)).toBe(30_000);
    expect(refineOffset(flat, 30_000, 38_000, 0, params)).toBe(30_000);
    const short = source(signal(2_000, 1_000, 2_000), 10_000);
    expect(refineOnset(short, 11_000, 0, params)).toBe(11_000);
  });
});

describe('endpoint refiner in low-frequency noise', () => {
  /** Brown noise as loud (RMS) as a 1.2 kHz tone burst over [on, off): broadband, the burst adds 3 dB to the rumble. */
  function brownWithTone(on: number, off: number): Float32Array {
    const noise = colouredNoise('brown', 60_000, 0.03, 7);
    return Float32Array.from(
      noise,
      (x, i) => x + (i >= on && i < off ? 0.03 * Math.SQRT2 * Math.sin((2 * Math.PI * 1200 * i) / 16000) : 0),
    );
  }

  it('places onset and offset within a frame from the speech band, though broadband the burst adds only 3 dB', () => {
    const on = 24_000;
    const off = 40_000;
    const s = source(brownWithTone(on, off));
    for (const approx of [on - 1500, on, on + 1000])
      expect(Math.abs(refineOnset(s, approx, 0, params) - on)).toBeLessThanOrEqual(REFINE_FRAME_SAMPLES);
    // The burst reads ~18 dB above its floor: a tail Silero dropped is found, but an offset is not moved
    // earlier than Silero's (at that level weak word endings sit under the noise).
    expect(Math.abs(refineOffset(s, off - 1500, off + 6500, on, params) - off)).toBeLessThanOrEqual(
      REFINE_FRAME_SAMPLES,
    );
    for (const approx of [off + 1000, off + 4000])
      expect(refineOffset(s, approx, approx + 8000, on, params)).toBe(approx);
  });

  it('keeps a decisive Silero offset unless a tail carries it later, and finds a tail past it', () => {
    const s = source(brownWithTone(24_000, 40_000));
    expect(refineOffset(s, 41_000, 49_000, 24_000, params, true)).toBe(41_000);
    expect(Math.abs(refineOffset(s, 38_500, 46_500, 24_000, params, true) - 40_000)).toBeLessThanOrEqual(
      REFINE_FRAME_SAMPLES,
    );
  });

  it('keeps the approximation when the noise before an onset is not steady (speech in the floor stretch)', () => {
    const s = source(brownWithTone(10_000, 40_000));
    expect(refineOnset(s, 24_000, 0, params)).toBe(24_000);
  });
});
