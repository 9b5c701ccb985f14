import { describe, expect, it } from 'vitest';
import { RealFft } from '../../../src/engine/phi4mm/fft.ts';

// Reference: direct O(N^2) DFT power spectrum of a zero-padded real frame.
function naivePower(input: Float64Array, inputLength: number, size: number): Float64Array {
  const power = new Float64Array(size / 2 + 1);
  for (let k = 0; k <= size / 2; k++) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < inputLength; n++) {
      const angle = (-2 * Math.PI * k * n) / size;
      re += input[n] * Math.cos(angle);
      im += input[n] * Math.sin(angle);
    }
    power[k] = re * re + im * im;
  }
  return power;
}

function randomFrame(length: number, seed: number): Float64Array {
  let state = seed >>> 0;
  return Float64Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 30000;
  });
}

describe('RealFft power spectrum', () => {
  it.each([
    { size: 4, inputLength: 4 },
    { size: 8, inputLength: 5 },
    { size: 16, inputLength: 16 },
    { size: 32, inputLength: 21 },
    { size: 64, inputLength: 64 },
    { size: 128, inputLength: 100 },
    { size: 256, inputLength: 200 }, // 8 kHz path
    { size: 512, inputLength: 400 }, // 16 kHz path
    { size: 512, inputLength: 512 },
  ])('matches a direct DFT for size $size with $inputLength samples', ({ size, inputLength }) => {
    const fft = new RealFft(size);
    expect(fft.bins).toBe(size / 2 + 1);
    const input = randomFrame(inputLength, size * 31 + inputLength);
    const power = new Float64Array(fft.bins);
    fft.powerSpectrum(input, inputLength, power);
    const expected = naivePower(input, inputLength, size);
    const scale = Math.max(...expected);
    for (let k = 0; k < fft.bins; k++) expect(Math.abs(power[k] - expected[k])).toBeLessThan(scale * 1e-12);
  });

  it('puts a pure tone in its bin', () => {
    const fft = new RealFft(512);
    const input = Float64Array.from({ length: 512 }, (_, n) => Math.cos((2 * Math.PI * 37 * n) / 512));
    const power = new Float64Array(257);
    fft.powerSpectrum(input, 512, power);
    expect(power[37]).toBeCloseTo(256 * 256, 6);
    for (let k = 0; k < 257; k++) if (k !== 37) expect(power[k]).toBeLessThan(1e-12);
  });

  it('does not keep state between calls (padding is re-zeroed)', () => {
    const fft = new RealFft(512);
    const frame = randomFrame(400, 7);
    const first = new Float64Array(257);
    const second = new Float64Array(257);
    fft.powerSpectrum(frame, 400, first);
    fft.powerSpectrum(randomFrame(512, 9), 512, second); // fills the padding region
    fft.powerSpectrum(frame, 400, second);
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it.each([0, 3, 12, 500])('rejects size %i', (size) => {
    expect(() => new RealFft(size)).toThrow(RangeError);
  });
});
