import { describe, expect, it } from 'vitest';
import { getPolyphaseFilter } from '../../../src/audio/polyphase_filter.ts';
import { resample, resampledLength } from '../../../src/audio/resample.ts';

// Symmetric phases are folded (the two inputs of a pair added before one multiply): the result must be the
// resampler's definition, output k = sum_j x[j] * g(t_k - j), computed here tap by tap from the table.
function direct(x: Float32Array, inputRateHz: number): Float64Array {
  const f = getPolyphaseFilter(inputRateHz, 16_000);
  const out = new Float64Array(resampledLength(x.length, inputRateHz));
  for (let k = 0; k < out.length; k++) {
    const base = Math.floor((k * f.downFactor) / f.upFactor);
    const phase = (k * f.downFactor) % f.upFactor;
    let acc = 0;
    for (let i = 0; i < f.tapsPerPhase; i++) {
      const j = base - f.halfTaps + 1 + i;
      if (j >= 0 && j < x.length) acc += f.coefficients[phase * f.tapsPerPhase + i] * x[j];
    }
    out[k] = acc;
  }
  return out;
}

function signal(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = 0.4 * Math.sin(i * 0.05) + (s / 2 ** 32 - 0.5) * 0.3;
  }
  return x;
}

describe('folded resampling', () => {
  it('folds the symmetric rate pairs and only those', () => {
    for (const rate of [8000, 24_000, 32_000, 48_000])
      expect(getPolyphaseFilter(rate, 16_000).foldedLengths, String(rate)).not.toBeNull();
    for (const rate of [22_050, 44_100])
      expect(getPolyphaseFilter(rate, 16_000).foldedLengths, String(rate)).toBeNull();
  });

  it.each([8000, 24_000, 32_000, 48_000])('%i Hz: equals the tap-by-tap definition', (rate) => {
    const x = signal(rate / 10);
    const got = resample(x, rate);
    const want = direct(x, rate);
    expect(got.length).toBe(want.length);
    let maxDiff = 0;
    for (let k = 0; k < got.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k] - want[k]));
    expect(maxDiff).toBeLessThan(1e-6); // float32 output of a float64 sum
  });
});
