// The WebAssembly SIMD resampler kernel: its committed bytes are the assembly of its source, and it
// computes the resampler's definition (the float64 scalar loop) to float32 rounding at every rate pair.
import { describe, expect, it } from 'vitest';
import { FIR_KERNEL_WASM_BASE64 } from '../../../src/audio/fir_kernel_bytes.ts';
import { firKernel } from '../../../src/audio/fir_kernel.ts';
import { resample, StreamingResampler, SUPPORTED_INPUT_RATES_HZ } from '../../../src/audio/resample.ts';
import { assembleFirKernel, renderBytesModule } from '../../../scripts/build_fir_kernel.ts';

function noise(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 1.8; // near full scale: the largest rounding error
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('fir kernel (WebAssembly SIMD)', () => {
  it('the committed bytes are the assembly of fir_kernel.wat (npm run build:wasm regenerates them)', async () => {
    const assembled = await assembleFirKernel();
    expect(Buffer.from(FIR_KERNEL_WASM_BASE64, 'base64').equals(Buffer.from(assembled))).toBe(true);
    expect(renderBytesModule(assembled)).toContain(FIR_KERNEL_WASM_BASE64.slice(0, 100));
  });

  it('is available on this Node (SIMD is the default kernel here)', () => {
    expect(firKernel()).not.toBeNull();
  });

  const pairs: [number, number][] = [];
  for (const input of SUPPORTED_INPUT_RATES_HZ)
    for (const output of [16_000, 24_000, 48_000]) if (input !== output) pairs.push([input, output]);

  it.each(pairs)('%i -> %i Hz: equals the scalar float64 loop to float32 rounding', (inputRateHz, outputRateHz) => {
    const x = noise(inputRateHz / 5, inputRateHz + outputRateHz);
    const simd = resample(x, inputRateHz, outputRateHz, 'simd');
    const scalar = resample(x, inputRateHz, outputRateHz, 'scalar');
    expect(simd.length).toBe(scalar.length);
    expect(maxAbsDiff(simd, scalar)).toBeLessThan(2e-6);
    expect(maxAbsDiff(simd, scalar)).toBeGreaterThan(0); // really two different kernels
  });

  it('interleaved streams at different rates (shared tables and scratch) each equal their own one-shot result', () => {
    const rates = [24_000, 44_100, 8000, 48_000, 22_050];
    const inputs = rates.map((rate, i) => noise(rate, 99 + i));
    const streams = rates.map((rate) => new StreamingResampler(rate, 16_000, 'simd'));
    const outputs: Float32Array[][] = rates.map(() => []);
    for (let chunk = 0; chunk < 50; chunk++) {
      streams.forEach((stream, i) => {
        const size = rates[i] / 50;
        outputs[i].push(stream.push(inputs[i].subarray(chunk * size, (chunk + 1) * size)));
      });
    }
    streams.forEach((stream, i) => {
      outputs[i].push(stream.flush());
      const joined = new Float32Array(outputs[i].reduce((n, part) => n + part.length, 0));
      let offset = 0;
      for (const part of outputs[i]) {
        joined.set(part, offset);
        offset += part.length;
      }
      expect(
        Buffer.from(joined.buffer).equals(Buffer.from(resample(inputs[i], rates[i], 16_000, 'simd').buffer)),
        String(rates[i]),
      ).toBe(true);
    });
  });

  it('grows its memory for a long one-shot input (a whole file), with the same result as streaming it', () => {
    const x = noise(48_000 * 20, 5); // 20 s at 48 kHz: blocks of 16k samples through the scratch area
    const whole = resample(x, 48_000, 16_000, 'simd');
    const stream = new StreamingResampler(48_000, 16_000, 'simd');
    const parts = [stream.push(x.subarray(0, 480_000)), stream.push(x.subarray(480_000)), stream.flush()];
    expect(whole.length).toBe(320_000);
    expect(
      Buffer.from(whole.buffer).equals(Buffer.from(Float32Array.from(parts.flatMap((p) => Array.from(p))).buffer)),
    ).toBe(true);
  });
});
