import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { float32ToInt16, float32ToPcm16Bytes, int16ToFloat32, pcm16BytesToFloat32 } from '../../../src/audio/pcm.ts';
import { EarshotError } from '../../../src/errors.ts';

describe('pcm16BytesToFloat32', () => {
  it('decodes little-endian int16 scaled by 1/32768', () => {
    const bytes = new Uint8Array([0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x00, 0x40]);
    expect(Array.from(pcm16BytesToFloat32(bytes))).toEqual([0, 1 / 32768, -1 / 32768, 32767 / 32768, -1, 0.5]);
  });

  it('rejects an odd byte count with E_ODD_PCM_BYTES', () => {
    expect(() => pcm16BytesToFloat32(new Uint8Array(3))).toThrowError(EarshotError);
    try {
      pcm16BytesToFloat32(new Uint8Array(3));
    } catch (error) {
      expect((error as EarshotError).code).toBe('E_ODD_PCM_BYTES');
    }
  });

  it('handles a view at an odd byte offset of its buffer', () => {
    const backing = new Uint8Array([0xaa, 0x00, 0x40, 0x00, 0xc0]);
    expect(Array.from(pcm16BytesToFloat32(backing.subarray(1)))).toEqual([0.5, -0.5]);
  });
});

describe('float32ToInt16', () => {
  it('scales by 32768, rounds, and clamps', () => {
    const input = new Float32Array([0, 0.5, -0.5, 1, -1, 2, -2, 1.4 / 32768, 1.6 / 32768, -1.6 / 32768, Number.NaN]);
    expect(Array.from(float32ToInt16(input))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 1, 2, -2, 0]);
  });
});

describe('round trips', () => {
  it('int16 -> float -> int16 is exact for every int16 value', () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    expect(float32ToInt16(int16ToFloat32(all))).toEqual(all);
  });

  it('bytes -> float -> bytes is exact', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).filter((b) => b.length % 2 === 0),
        (bytes) => {
          expect(float32ToPcm16Bytes(pcm16BytesToFloat32(bytes))).toEqual(bytes);
        },
      ),
    );
  });

  it('float32ToPcm16Bytes agrees with float32ToInt16 in little-endian order', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 100 }), (samples) => {
        const bytes = float32ToPcm16Bytes(samples);
        const ints = float32ToInt16(samples);
        const view = new DataView(bytes.buffer);
        for (let i = 0; i < ints.length; i++) expect(view.getInt16(2 * i, true)).toBe(ints[i]);
      }),
    );
  });
});
