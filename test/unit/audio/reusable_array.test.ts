import { describe, expect, it } from 'vitest';
import { MAX_REUSED_ELEMENTS, ReusableArray } from '../../../src/audio/reusable_array.ts';

describe('ReusableArray', () => {
  it('hands out views of one buffer for chunk-sized requests', () => {
    const scratch = new ReusableArray((n) => new Float32Array(n));
    const a = scratch.take(480);
    const b = scratch.take(320);
    expect(a.length).toBe(480);
    expect(b.length).toBe(320);
    expect(b.buffer).toBe(a.buffer);
  });

  it('does not keep an array larger than MAX_REUSED_ELEMENTS (a whole recording in one message)', () => {
    const scratch = new ReusableArray((n) => new Uint8Array(n));
    scratch.take(1000);
    const big = scratch.take(MAX_REUSED_ELEMENTS * 40);
    expect(big.length).toBe(MAX_REUSED_ELEMENTS * 40);
    expect(scratch.retainedLength).toBeLessThanOrEqual(MAX_REUSED_ELEMENTS);
    expect(scratch.take(MAX_REUSED_ELEMENTS).buffer).not.toBe(big.buffer);
    expect(scratch.retainedLength).toBe(MAX_REUSED_ELEMENTS);
  });
});
