import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  float16ArrayToFloat32,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  readFloats,
  floatTensor,
} from '../../../src/engine/phi4mm/tensors.ts';

describe('float16 conversion', () => {
  it('every half value survives half -> float -> half', () => {
    for (let h = 0; h < 65536; h++) {
      const f = float16BitsToFloat32(h);
      if (Number.isNaN(f)) expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(f)))).toBe(true);
      else expect(float32ToFloat16Bits(f)).toBe(h);
    }
  });

  it('known values, rounding, overflow and subnormals', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds to infinity
    expect(float32ToFloat16Bits(1e-8)).toBe(0); // below half the smallest subnormal
    expect(float32ToFloat16Bits(2 ** -24)).toBe(1);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
  });

  it('conversion error is within half a unit in the last place', () => {
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const back = float16BitsToFloat32(float32ToFloat16Bits(x));
        const ulp = Math.max(2 ** -24, 2 ** (Math.floor(Math.log2(Math.abs(x) || 2 ** -24)) - 10));
        expect(Math.abs(back - x)).toBeLessThanOrEqual(ulp / 2 + 1e-12);
      }),
      { numRuns: 2000, seed: 5 },
    );
  });

  it('tensors convert at the boundary', () => {
    const values = new Float32Array([0.5, -1.25, 3]);
    const t = floatTensor('float16', values, [3]);
    expect(t.type).toBe('float16');
    expect([...readFloats(t)]).toEqual([0.5, -1.25, 3]);
    expect([...readFloats(t, 1, 1)]).toEqual([-1.25]);
    expect([...float16ArrayToFloat32(t.data as Uint16Array)]).toEqual([0.5, -1.25, 3]);
  });
});
