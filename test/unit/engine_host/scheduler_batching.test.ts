import { describe, expect, it } from 'vitest';
import { StepScheduler, type SchedulerBatcher } from '../../../src/engine/scheduler.ts';
import { EarshotError } from '../../../src/errors.ts';

/** A stand-in for the step batcher: steps wait on `step()` until the scheduler flushes. */
class FakeBatcher implements SchedulerBatcher {
  readonly flushes: string[][] = [];
  private queue: { name: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  constructor(
    readonly maxRows: number,
    private readonly scheduler: StepScheduler,
  ) {}
  get waiting(): number {
    return this.queue.length;
  }
  step(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, resolve, reject });
      this.scheduler.notifyParked();
    });
  }
  async flush(): Promise<void> {
    const rows = this.queue;
    this.queue = [];
    this.flushes.push(rows.map((r) => r.name));
    for (const r of rows) r.resolve();
  }
  failAll(error: unknown): void {
    const rows = this.queue;
    this.queue = [];
    for (const r of rows) r.reject(error);
  }
}

function setup(maxRows = 16) {
  const s = new StepScheduler(100);
  const b = new FakeBatcher(maxRows, s);
  s.setBatcher(b);
  return { s, b };
}

/** `steps` decode-like steps: each one waits for a batched run, then yields. */
function decoder(b: FakeBatcher, log: string[], name: string, steps: number) {
  return async function* (): AsyncGenerator<void, string, void> {
    for (let i = 0; i < steps; i++) {
      if (i > 0) yield;
      await b.step(`${name}${i}`);
      log.push(`${name}${i}`);
    }
    return name;
  };
}

/** Steps that never wait for a batch (prefill chunks, the speech encoder). */
function plain(log: string[], name: string, steps: number) {
  return async function* (): AsyncGenerator<void, string, void> {
    for (let i = 0; i < steps; i++) {
      if (i > 0) yield;
      log.push(`${name}${i}`);
    }
    return name;
  };
}

describe('StepScheduler with a batcher', () => {
  it('one batched run per round carries the step of every lane', async () => {
    const { s, b } = setup();
    const log: string[] = [];
    const results = await Promise.all(['a', 'b', 'c'].map((n) => s.submit(n, decoder(b, log, n, 3))));
    expect(results).toEqual(['a', 'b', 'c']);
    expect(b.flushes).toEqual([
      ['a0', 'b0', 'c0'],
      ['a1', 'b1', 'c1'],
      ['a2', 'b2', 'c2'],
    ]);
    expect(log).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  });

  it('parked steps wait at most one round: lanes with other work do not starve them', async () => {
    const { s, b } = setup();
    const log: string[] = [];
    // "p" always has plain work; the decoders must still be flushed every round.
    await Promise.all([
      s.submit('d', decoder(b, log, 'd', 3)),
      s.submit('p', plain(log, 'p', 12)),
      s.submit('e', decoder(b, log, 'e', 3)),
    ]);
    expect(b.flushes).toEqual([
      ['d0', 'e0'],
      ['d1', 'e1'],
      ['d2', 'e2'],
    ]);
    // Between two flushes "p" ran about once per round, not all 12 steps.
    expect(log.indexOf('d1')).toBeLessThan(log.indexOf('p4'));
  });

  it('a full batch flushes at once', async () => {
    const { s, b } = setup(2);
    const log: string[] = [];
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => s.submit(n, decoder(b, log, n, 1))));
    expect(b.flushes.every((f) => f.length <= 2)).toBe(true);
    expect(b.flushes.flat().sort()).toEqual(['a0', 'b0', 'c0', 'd0', 'e0']);
  });

  it('jobs of one lane still run in order around parked steps', async () => {
    const { s, b } = setup();
    const log: string[] = [];
    await Promise.all([
      s.submit('a', decoder(b, log, 'x', 2)),
      s.submit('a', plain(log, 'y', 2)),
      s.submit('b', decoder(b, log, 'z', 3)),
    ]);
    expect(log.filter((e) => e[0] !== 'z')).toEqual(['x0', 'x1', 'y0', 'y1']);
  });

  it('a failed batched run fails its own jobs only; close fails parked steps and waits for them', async () => {
    const { s, b } = setup();
    const log: string[] = [];
    const failing = s.submit('f', async function* (): AsyncGenerator<void, string, void> {
      await Promise.reject(new EarshotError('E_ENGINE', 'batch failed'));
      return 'never';
    });
    const fine = s.submit('g', decoder(b, log, 'g', 2));
    await expect(failing).rejects.toSatisfy((e: unknown) => e instanceof EarshotError && e.code === 'E_ENGINE');
    await expect(fine).resolves.toBe('g');

    let resumed = false;
    const parked = s.submit('h', async function* (): AsyncGenerator<void, string, void> {
      try {
        await b.step('h0');
        return 'h';
      } finally {
        resumed = true;
      }
    });
    // Handled from the start: close() rejects "h" at once, and awaiting close() takes more than a tick.
    let settled = false;
    const parkedOutcome = parked.then(
      () => ((settled = true), 'h'),
      (e: unknown) => ((settled = true), (e as EarshotError).code),
    );
    // Until "h" has run its first step: parked on the batcher, or already flushed and done (a timer alone
    // may fire before that step runs).
    while (b.waiting === 0 && !settled) await new Promise((r) => setImmediate(r));
    // Close while "h" is parked: it must be failed (or have finished), never left hanging.
    await s.close();
    expect(['h', 'E_ENGINE']).toContain(await parkedOutcome);
    expect(resumed).toBe(true);
  });

  it('a step that parks after close() began (its graph run was still going) is failed, and close() resolves', async () => {
    const { s, b } = setup();
    let finishGraphRun: () => void = () => undefined;
    const graphRun = new Promise<void>((resolve) => (finishGraphRun = resolve));
    let running = false;
    const late = s.submit('late', async function* (): AsyncGenerator<void, string, void> {
      running = true;
      await graphRun; // stands for the embedding run that precedes a batched text step
      await b.step('late0');
      return 'late';
    });
    while (!running) await new Promise((r) => setImmediate(r));
    const closing = s.close();
    finishGraphRun();
    await expect(late).rejects.toMatchObject({ code: 'E_ENGINE' });
    await closing;
    expect(b.waiting).toBe(0);
  });
});
