import { describe, expect, it } from 'vitest';
import { StepScheduler } from '../../../src/engine/scheduler.ts';

// Issue 16, item 9: admission watches how long sessions' turns and steps wait in the engine queue. The
// scheduler reports the longest wait of a lane for its next step over the last second or two, and the age
// of the oldest lane still waiting (a step that holds the engine finishes nothing, and that is when
// everyone else waits).

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

describe('engine step wait', () => {
  it('is small while steps are short, even with many lanes', async () => {
    const scheduler = new StepScheduler(64);
    await Promise.all(Array.from({ length: 4 }, (_, i) => scheduler.submit(`lane-${i}`, job(5, 1))));
    expect(scheduler.stats().maxStepWaitMs).toBeLessThan(200);
  });

  it('grows with a step that holds the engine: the waiting lane shows its age before the step ends', async () => {
    const scheduler = new StepScheduler(64);
    const holding = scheduler.submit('slow', job(1, 900));
    const waiting = scheduler.submit('next', job(1, 1));
    await sleep(600);
    // Still waiting: reported as the age of the oldest ready lane.
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThan(450);
    await Promise.all([holding, waiting]);
    // Done waiting: the wait it had is still reported for the window it happened in.
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThan(800);
  });

  it('forgets a wait after two windows without one', async () => {
    const scheduler = new StepScheduler(64);
    await Promise.all([scheduler.submit('slow', job(1, 400)), scheduler.submit('next', job(1, 1))]);
    expect(scheduler.stats().maxStepWaitMs).toBeGreaterThan(300);
    await sleep(2100);
    await scheduler.submit('again', job(1, 1));
    await sleep(1100);
    expect(scheduler.stats().maxStepWaitMs).toBeLessThan(100);
  });
});
