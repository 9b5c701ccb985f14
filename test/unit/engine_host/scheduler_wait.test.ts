import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StepScheduler } from '../../../src/engine/scheduler.ts';

// Admission watches how long sessions' turns and steps wait in the engine queue. The
// scheduler reports the longest wait of a lane for its next step over the last second or two, and the age
// of the oldest lane still waiting (a step that holds the engine finishes nothing, and that is when
// everyone else waits).
//
// The waits are read from performance.now() and the steps below last a setTimeout: both are faked, so the
// figures are exact and nothing waits in real time. setImmediate stays real: the scheduler yields with it.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job of `steps` steps of `stepMs` each (a step awaits, as graph runs do). */
function job(steps: number, stepMs: number) {
  return async function* (): AsyncGenerator<void, number, void> {
    for (let i = 0; i < steps; i++) {
      await sleep(stepMs);
      if (i < steps - 1) yield;
    }
    return steps;
  };
}

/** Advances fake time until `done` settles (steps of `stepMs`), returning its value. */
async function runUntil<T>(done: Promise<T>, stepMs = 1): Promise<T> {
  let settled = false;
  const watched = done.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 100_000 && !settled; i++) await vi.advanceTimersByTimeAsync(stepMs);
  return watched;
}

describe('engine step wait', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is small while steps are short, even with many lanes', async () => {
    const scheduler = new StepScheduler(64);
    await runUntil(Promise.all(Array.from({ length: 4 }, (_, i) => scheduler.submit(`lane-${i}`, job(5, 1)))));
    // Each lane waits at most for the three others' 1 ms steps.
    expect(scheduler.stats().maxStepWaitMs).toBeLessThanOrEqual(4);
  });

  it('grows with a step that holds the engine: the waiting lane shows its age before the step ends', async () => {
    const scheduler = new StepScheduler(64);
    const holding = scheduler.submit('slow', job(1, 900));
    const waiting = scheduler.submit('next', job(1, 1));
    await vi.advanceTimersByTimeAsync(600);
    // Still waiting: reported as the age of the oldest ready lane.
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThanOrEqual(600);
    expect(scheduler.stats().maxStepWaitMs).toBeLessThan(700);
    await runUntil(Promise.all([holding, waiting]));
    // Done waiting: the wait it had is still reported for the window it happened in.
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThanOrEqual(900);
  });

  it('keeps a wait for the next window, and forgets it after two windows without one', async () => {
    const scheduler = new StepScheduler(64);
    await runUntil(Promise.all([scheduler.submit('slow', job(1, 400)), scheduler.submit('next', job(1, 1))]));
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThanOrEqual(400);
    await vi.advanceTimersByTimeAsync(1100);
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThanOrEqual(400); // the previous window's

    const quiet = new StepScheduler(64);
    await runUntil(Promise.all([quiet.submit('slow', job(1, 400)), quiet.submit('next', job(1, 1))]));
    // Nothing asks and nothing waits for two windows: the first look after them finds no wait.
    await vi.advanceTimersByTimeAsync(2100);
    expect(quiet.stats().maxStepWaitMs).toBeLessThan(100);
    await runUntil(quiet.submit('again', job(1, 1)));
    await vi.advanceTimersByTimeAsync(1100);
    expect(quiet.stats().maxStepWaitMs).toBeLessThan(100);
  });
});
