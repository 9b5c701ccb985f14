import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argmax, SeededRandom, selectToken } from '../../../src/engine/phi4mm/sampling.ts';

describe('sampling', () => {
  it('SeededRandom is reproducible and uniform enough', () => {
    const a = new SeededRandom(5);
    const b = new SeededRandom(5);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('greedy picks the largest real token and never a masked padding column', () => {
    const logits = new Float32Array([0, 3, 1, 9, 2]);
    expect(argmax(logits, 4)).toBe(3);
    expect(argmax(logits, 2)).toBe(1); // ids above maxTokenId are padding
    expect(selectToken(logits, 2, { temperature: 1, seed: 1 }, new SeededRandom(1))).toBeLessThanOrEqual(2);
    expect(selectToken(logits, 4, undefined, new SeededRandom(1))).toBe(3);
    expect(selectToken(logits, 4, { temperature: 0 }, new SeededRandom(1))).toBe(3);
  });

  it('top-k 1 equals greedy and top-k / top-p restrict the choice', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 40 }),
        fc.nat(),
        (values, seed) => {
          const logits = Float32Array.from(values);
          const max = logits.length - 1;
          const rng = new SeededRandom(seed);
          expect(logits[selectToken(logits, max, { temperature: 1, topK: 1 }, rng)]).toBe(logits[argmax(logits, max)]);
          const sorted = [...logits].sort((a, b) => b - a);
          const pick = selectToken(logits, max, { temperature: 1, topK: 3 }, rng);
          expect(logits[pick]).toBeGreaterThanOrEqual(sorted[Math.min(2, sorted.length - 1)]);
          const nucleus = selectToken(logits, max, { temperature: 1, topP: 1e-6 }, rng);
          expect(logits[nucleus]).toBe(sorted[0]);
        },
      ),
      { numRuns: 200, seed: 9 },
    );
  });

  it('samples in proportion to softmax probabilities', () => {
    const logits = new Float32Array([Math.log(0.6), Math.log(0.3), Math.log(0.1)]);
    const rng = new SeededRandom(123);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[selectToken(logits, 2, { temperature: 1 }, rng)]++;
    expect(counts[0] / 20000).toBeCloseTo(0.6, 1);
    expect(counts[1] / 20000).toBeCloseTo(0.3, 1);
    expect(counts[2] / 20000).toBeCloseTo(0.1, 1);
  });
});
