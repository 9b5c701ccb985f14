import { describe, expect, it } from 'vitest';
import { StepScheduler } from '../../../src/engine/scheduler.ts';
import { EarshotError } from '../../../src/errors.ts';

/** A job of `steps` steps that records `${name}${i}` at each step. */
function job(log: string[], name: string, steps: number) {
  return async function* (): AsyncGenerator<void, string, void> {
    for (let i = 0; i < steps; i++) {
      if (i > 0) yield;
      log.push(`${name}${i}`);
    }
    return name;
  };
}

describe('StepScheduler', () => {
  it('interleaves lanes round robin, one step at a time', async () => {
    const s = new StepScheduler(10);
    const log: string[] = [];
    const results = await Promise.all([
      s.submit('a', job(log, 'a', 3)),
      s.submit('b', job(log, 'b', 2)),
      s.submit('c', job(log, 'c', 1)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'a2']);
  });

  it('runs the jobs of one lane in order, never two at once', async () => {
    const s = new StepScheduler(10);
    const log: string[] = [];
    await Promise.all([
      s.submit('a', job(log, 'x', 2)),
      s.submit('a', job(log, 'y', 2)),
      s.submit('b', job(log, 'z', 3)),
    ]);
    expect(log.filter((e) => e[0] !== 'z')).toEqual(['x0', 'x1', 'y0', 'y1']);
    expect(log.indexOf('z1')).toBeLessThan(log.indexOf('y0'));
  });

  it('refuses work beyond the bound at once with E_ENGINE_BUSY, exempt jobs pass', async () => {
    const s = new StepScheduler(2);
    const log: string[] = [];
    const a = s.submit('a', job(log, 'a', 2));
    const b = s.submit('b', job(log, 'b', 2));
    await expect(s.submit('c', job(log, 'c', 1))).rejects.toSatisfy(
      (e: unknown) => e instanceof EarshotError && e.code === 'E_ENGINE_BUSY' && e.retryable,
    );
    const exempt = s.submit('d', job(log, 'd', 1), { exempt: true });
    expect(s.stats().pending).toBe(2);
    await Promise.all([a, b, exempt]);
    expect(log).not.toContain('c0');
    expect(s.stats().pending).toBe(0);
    await expect(s.submit('c', job(log, 'c', 1))).resolves.toBe('c');
  });

  it('a failing job rejects alone; the lane continues with its next job', async () => {
    const s = new StepScheduler(10);
    const log: string[] = [];
    const bad = s.submit('a', async function* (): AsyncGenerator<void, void, void> {
      yield;
      throw new EarshotError('E_ENGINE', 'boom');
    });
    const good = s.submit('a', job(log, 'g', 2));
    await expect(bad).rejects.toThrow('boom');
    await expect(good).resolves.toBe('g');
  });

  it('close fails queued jobs and waits for the running step', async () => {
    const s = new StepScheduler(10);
    const log: string[] = [];
    const first = s.submit('a', job(log, 'a', 5));
    const queued = s.submit('a', job(log, 'q', 1));
    const outcomes = Promise.allSettled([first, queued]);
    await new Promise((r) => setImmediate(r));
    await s.close();
    const [a, q] = await outcomes;
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 'E_ENGINE' } });
    expect(q).toMatchObject({ status: 'rejected', reason: { code: 'E_ENGINE' } });
    await expect(s.submit('b', job(log, 'b', 1))).rejects.toMatchObject({ code: 'E_ENGINE' });
    expect(log).not.toContain('q0');
  });
});
