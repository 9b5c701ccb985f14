import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameAccumulator } from '../../../src/audio/framing.ts';

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe('FrameAccumulator', () => {
  it('windows + remainder reproduce the input for any chunking', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.float32Array({ maxLength: 1500, noNaN: true }), { maxLength: 12 }),
        (windowSamples, chunks) => {
          const accumulator = new FrameAccumulator(windowSamples);
          const windows: Float32Array[] = [];
          for (const chunk of chunks) {
            windows.push(...accumulator.push(chunk));
            expect(accumulator.bufferedSamples).toBeLessThan(windowSamples);
          }
          for (const window of windows) expect(window.length).toBe(windowSamples);
          const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
          expect(windows.length).toBe(Math.floor(total / windowSamples));
          expect(accumulator.bufferedSamples).toBe(total % windowSamples);
          const remainder = accumulator.takeRemainder();
          expect(concat([...windows, remainder])).toEqual(concat(chunks));
          expect(accumulator.bufferedSamples).toBe(0);
        },
      ),
    );
  });

  it('returns fresh arrays that later pushes never modify', () => {
    const accumulator = new FrameAccumulator(4);
    const input = new Float32Array([1, 2, 3, 4, 5, 6]);
    const [first] = accumulator.push(input);
    input.fill(0);
    const [second] = accumulator.push(new Float32Array([7, 8]));
    accumulator.push(new Float32Array([9, 9, 9, 9, 9]));
    expect(first).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(second).toEqual(new Float32Array([5, 6, 7, 8]));
    expect(first.buffer).not.toBe(input.buffer);
    expect(accumulator.takeRemainder()).toEqual(new Float32Array([9]));
    expect(accumulator.takeRemainder()).toEqual(new Float32Array(0));
  });

  it('rejects a window that is not a positive integer', () => {
    for (const bad of [0, -512, 1.5, Number.NaN]) expect(() => new FrameAccumulator(bad)).toThrow(/positive integer/);
  });
});
