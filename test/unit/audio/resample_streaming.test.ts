// Streaming exactness, output length and time alignment: the sample clock of the whole pipeline relies on these.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  resample,
  resampledLength,
  type ResamplerKernel,
  StreamingResampler,
  SUPPORTED_INPUT_RATES_HZ,
} from '../../../src/audio/resample.ts';

function bytesOf(samples: Float32Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const rateArbitrary = fc.constantFrom(...SUPPORTED_INPUT_RATES_HZ);
const KERNELS: ResamplerKernel[] = ['simd', 'scalar'];
const kernelArbitrary = fc.constantFrom(...KERNELS);
/** Dense noise (fast-check's own float arrays are mostly tiny or special values, which hides stale reads). */
function noise(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

const signalArbitrary = fc.tuple(fc.nat({ max: 3000 }), fc.integer()).map(([length, seed]) => noise(length, seed));

describe('StreamingResampler streaming exactness', () => {
  it('any chunking + flush is bit-identical to resample(whole input), with either kernel', () => {
    fc.assert(
      fc.property(
        kernelArbitrary,
        rateArbitrary,
        signalArbitrary,
        fc.array(fc.nat({ max: 700 }), { maxLength: 20 }),
        (kernel, rateHz, input, cuts) => {
          const expected = resample(input, rateHz, 16_000, kernel);
          const resampler = new StreamingResampler(rateHz, 16_000, kernel);
          const parts: Float32Array[] = [];
          let offset = 0;
          for (const cut of cuts) {
            const end = Math.min(input.length, offset + cut);
            parts.push(resampler.push(input.subarray(offset, end)));
            offset = end;
          }
          parts.push(resampler.push(input.subarray(offset)));
          parts.push(resampler.flush());
          expect(bytesOf(concat(parts)).equals(bytesOf(expected))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each(KERNELS)('%s: sample-by-sample pushing equals one-shot resampling', (kernel) => {
    for (const rateHz of [8000, 44100, 48000]) {
      const input = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i * 0.37) * 0.8);
      const resampler = new StreamingResampler(rateHz, 16_000, kernel);
      const parts: Float32Array[] = [];
      for (let i = 0; i < input.length; i++) parts.push(resampler.push(input.subarray(i, i + 1)));
      parts.push(resampler.flush());
      expect(bytesOf(concat(parts)).equals(bytesOf(resample(input, rateHz, 16_000, kernel)))).toBe(true);
    }
  });

  it.each(KERNELS)(
    '%s: a push larger than the internal block size matches small pushes, with a bounded working buffer',
    (kernel) => {
      const input = noise(100_000, 7);
      const resampler = new StreamingResampler(44100, 16_000, kernel);
      const whole = concat([resampler.push(input), resampler.flush()]);
      const chunked = new StreamingResampler(44100, 16_000, kernel);
      const parts: Float32Array[] = [];
      for (let offset = 0; offset < input.length; offset += 6999)
        parts.push(chunked.push(input.subarray(offset, offset + 6999)));
      parts.push(chunked.flush());
      expect(bytesOf(whole).equals(bytesOf(concat(parts)))).toBe(true);
      expect(whole.length).toBe(Math.round((100_000 * 16000) / 44100));
      // White-box: the look-ahead buffer must not grow with the size of one push.
      expect((resampler as unknown as { buffer: Float32Array | Float64Array }).buffer.length).toBeLessThanOrEqual(
        65_536,
      );
    },
  );

  it('flush resets: the next stream starts from a clean state', () => {
    const input = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 0.01));
    const resampler = new StreamingResampler(44100);
    resampler.push(input.subarray(0, 1234));
    resampler.flush();
    const again = concat([resampler.push(input), resampler.flush()]);
    expect(bytesOf(again).equals(bytesOf(resample(input, 44100)))).toBe(true);
    expect(resampler.outputSamplesEmitted).toBe(0);
  });

  it('emits output with bounded latency (at most halfTaps input samples behind)', () => {
    for (const rateHz of SUPPORTED_INPUT_RATES_HZ) {
      const resampler = new StreamingResampler(rateHz);
      let emitted = 0;
      for (let pushed = 0; pushed < rateHz; pushed += 320) {
        emitted += resampler.push(new Float32Array(320)).length;
        const finalInputSamples = Math.max(0, pushed + 320 - resampler.latencyInputSamples);
        expect(emitted).toBeGreaterThanOrEqual(Math.floor((finalInputSamples * 16000) / rateHz) - 1);
        expect(emitted).toBe(resampler.outputSamplesEmitted);
      }
      expect(resampler.latencyInputSamples).toBeLessThan(rateHz * 0.006); // under 6 ms of look-ahead
    }
  });
});

describe('StreamingResampler output length', () => {
  it('is Math.round(N * out / in) after flush, for every rate and length', () => {
    fc.assert(
      fc.property(rateArbitrary, fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), (rateHz, length, cut) => {
        const resampler = new StreamingResampler(rateHz);
        const split = Math.min(cut, length);
        const total =
          resampler.push(new Float32Array(split)).length +
          resampler.push(new Float32Array(length - split)).length +
          resampler.flush().length;
        expect(total).toBe(Math.round((length * 16000) / rateHz));
        expect(resampledLength(length, rateHz)).toBe(total);
      }),
      { numRuns: 300 },
    );
  });

  it('rounds halves up and handles tiny inputs', () => {
    expect(resample(new Float32Array(0), 48000).length).toBe(0);
    expect(resample(new Float32Array(1), 48000).length).toBe(0); // 1/3
    expect(resample(new Float32Array(2), 48000).length).toBe(1); // 2/3
    expect(resample(new Float32Array(3), 24000).length).toBe(2);
    expect(resample(new Float32Array(1), 32000).length).toBe(1); // 1/2 rounds up
    expect(resample(new Float32Array(441), 44100).length).toBe(160);
    expect(resample(new Float32Array(1), 8000).length).toBe(2);
    expect(resampledLength(3, 32000)).toBe(2); // 1.5 rounds up
    expect(resampledLength(44100 * 3600, 44100)).toBe(16000 * 3600);
  });
});

describe('StreamingResampler time alignment', () => {
  it('a click at input time t peaks at output index round(t * 16000)', () => {
    // Clicks in the last input samples can round to index N_out, one past the end (the output spans the
    // same duration as the input), so they stay 10 samples clear of the end.
    fc.assert(
      fc.property(rateArbitrary, fc.integer({ min: 0, max: 3990 }), (rateHz, clickIndex) => {
        const input = new Float32Array(4000);
        input[clickIndex] = 1;
        const output = resample(input, rateHz);
        let peak = 0;
        for (let k = 1; k < output.length; k++) if (output[k] > output[peak]) peak = k;
        const expected = Math.round((clickIndex * 16000) / rateHz);
        // At 32 kHz odd clicks fall exactly between two outputs: both peaks are equal.
        if (peak !== expected) expect(output[peak]).toBe(output[expected]);
        expect(Math.abs(peak - expected)).toBeLessThanOrEqual((clickIndex * 16000) % rateHz === rateHz / 2 ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('a click at an exact output instant is reproduced symmetrically around its output sample', () => {
    // 48 kHz index 300 is 10 ms: output sample 160 exactly; the kernel is symmetric around it.
    const input = new Float32Array(960);
    input[480] = 1;
    const output = resample(input, 48000);
    for (let d = 1; d < 40; d++) expect(output[160 + d]).toBeCloseTo(output[160 - d], 6);
    expect(output[160]).toBeGreaterThan(0.3);
  });
});
