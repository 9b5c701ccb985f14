// The pipeline's two concatMap replacements must behave as concatMap does: same items, same order, same
// completion and error behaviour, whatever order the promises settle in.
import fc from 'fast-check';
import { concatMap, from, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { expandEach, mapOrdered } from '../../../src/pipeline/operators.ts';

interface Deferred {
  promise: Promise<string>;
  resolve: (v: string) => void;
  reject: (e: unknown) => void;
}
function deferred(): Deferred {
  let resolve!: (v: string) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('expandEach', () => {
  it('emits what concatMap(from(...)) emits, synchronously', () => {
    const got: number[] = [];
    const want: number[] = [];
    const input = [[1, 2], [], [3], [4, 5, 6]];
    from(input)
      .pipe(expandEach((xs) => xs))
      .subscribe((x) => got.push(x));
    from(input)
      .pipe(concatMap((xs) => from(xs)))
      .subscribe((x) => want.push(x));
    expect(got).toEqual(want);
  });

  it('a throwing project errors the stream', () => {
    const errors: unknown[] = [];
    from([1, 2])
      .pipe(
        expandEach((x) => {
          if (x === 2) throw new Error('boom');
          return [x];
        }),
      )
      .subscribe({ error: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
  });
});

describe('mapOrdered', () => {
  it('emits in arrival order whatever order promises settle in (property, against concatMap)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), fc.integer(), async (isAsync, seed) => {
        const deferreds = isAsync.map(() => deferred());
        const run = (op: 'ordered' | 'concat') => {
          const input = new Subject<number>();
          const out: string[] = [];
          let completed = false;
          const project = (i: number) => (isAsync[i] ? deferreds[i].promise : `v${i}`);
          const piped =
            op === 'ordered'
              ? input.pipe(mapOrdered(project))
              : input.pipe(concatMap((i) => Promise.resolve(project(i))));
          piped.subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
          isAsync.forEach((_, i) => input.next(i));
          input.complete();
          return { out, done: () => completed };
        };
        const ordered = run('ordered');
        const concat = run('concat');
        // Settle in a shuffled order.
        const order = isAsync.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 31) - ((b * 7919 + seed) % 31));
        for (const i of order) {
          deferreds[i].resolve(`p${i}`);
          await ticks();
        }
        await ticks(10);
        expect(ordered.out).toEqual(concat.out);
        expect(ordered.out).toHaveLength(isAsync.length);
        expect(ordered.done()).toBe(true);
      }),
      { numRuns: 100, seed: 42 },
    );
  });

  it('plain values wait behind an unsettled promise; nothing emits before a microtask', async () => {
    const input = new Subject<number>();
    const slow = deferred();
    const out: string[] = [];
    input.pipe(mapOrdered((i) => (i === 0 ? slow.promise : `v${i}`))).subscribe((v) => out.push(v));
    input.next(0);
    input.next(1);
    input.next(2);
    expect(out).toEqual([]);
    await ticks();
    expect(out).toEqual([]);
    slow.resolve('p0');
    await ticks();
    expect(out).toEqual(['p0', 'v1', 'v2']);
  });

  it('a rejection errors the stream once the results before it are out, and not before', async () => {
    const input = new Subject<number>();
    const first = deferred();
    const second = deferred();
    const out: string[] = [];
    const errors: unknown[] = [];
    input
      .pipe(mapOrdered((i) => (i === 0 ? first.promise : i === 1 ? second.promise : `v${i}`)))
      .subscribe({ next: (v) => out.push(v), error: (e) => errors.push(e) });
    input.next(0);
    input.next(1);
    input.next(2);
    second.reject(new Error('vad failed'));
    await ticks();
    expect(errors).toEqual([]);
    first.resolve('p0');
    await ticks();
    expect(out).toEqual(['p0']);
    expect(errors).toHaveLength(1);
  });

  it('after unsubscribe, late results are dropped and nothing throws', async () => {
    const input = new Subject<number>();
    const slow = deferred();
    const out: string[] = [];
    const sub = input.pipe(mapOrdered(() => slow.promise)).subscribe((v) => out.push(v));
    input.next(0);
    sub.unsubscribe();
    slow.resolve('late');
    await ticks();
    expect(out).toEqual([]);
  });

  it('a long backlog drains completely and in order (queue compaction)', async () => {
    const input = new Subject<number>();
    const gates = Array.from({ length: 5000 }, () => deferred());
    const out: string[] = [];
    input.pipe(mapOrdered((i) => gates[i].promise)).subscribe((v) => out.push(v));
    for (let i = 0; i < gates.length; i++) input.next(i);
    for (let i = 0; i < gates.length; i += 100) {
      for (let j = i; j < i + 100; j++) gates[j].resolve(`p${j}`);
      await ticks();
    }
    await ticks();
    expect(out).toEqual(gates.map((_, i) => `p${i}`));
  });
});
