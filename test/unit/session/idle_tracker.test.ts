import { describe, expect, it } from 'vitest';
import { IdleTracker } from '../../../src/session/idle_timeout.ts';

// The idle-timeout rules on the audio clock (ms): when a stretch counts, and that it fires once.
const TIMEOUT = 5000;

describe('IdleTracker', () => {
  it('fires once per stretch, counted from the session start', () => {
    const t = new IdleTracker();
    expect(t.check(4999, TIMEOUT)).toBeNull();
    expect(t.check(5000, TIMEOUT)).toEqual({ startMs: 0, endMs: 5000 });
    expect(t.check(20_000, TIMEOUT)).toBeNull();
  });

  it('never fires during speech, however long', () => {
    const t = new IdleTracker();
    t.speechStarted();
    expect(t.check(60_000, TIMEOUT)).toBeNull();
    t.utteranceCommitted(61_000, false);
    expect(t.check(65_999, TIMEOUT)).toBeNull();
    expect(t.check(66_000, TIMEOUT)).toEqual({ startMs: 61_000, endMs: 66_000 });
  });

  it('waits for the answer of an utterance, then counts from its end', () => {
    const t = new IdleTracker();
    t.speechStarted();
    t.utteranceCommitted(1000, true);
    expect(t.check(9000, TIMEOUT, true)).toBeNull();
    t.responseStarted();
    expect(t.check(20_000, TIMEOUT)).toBeNull();
    t.responseDone(21_000);
    expect(t.check(25_999, TIMEOUT, true)).toBeNull();
    expect(t.check(26_000, TIMEOUT)).toEqual({ startMs: 21_000, endMs: 26_000 });
  });

  it('an answer that failed before response.created: counting resumes once the turns are done', () => {
    const t = new IdleTracker();
    t.speechStarted();
    t.utteranceCommitted(1000, true);
    expect(t.check(8000, TIMEOUT, true)).toBeNull();
    // The turn ended with an error, no response: the stretch starts when that is seen.
    expect(t.check(9000, TIMEOUT, false)).toBeNull();
    expect(t.check(13_999, TIMEOUT)).toBeNull();
    expect(t.check(14_000, TIMEOUT)).toEqual({ startMs: 9000, endMs: 14_000 });
  });

  it('a queued response.create holds the timeout until its response has run', () => {
    const t = new IdleTracker();
    expect(t.check(4000, TIMEOUT, true)).toBeNull();
    expect(t.check(7000, TIMEOUT, true)).toBeNull();
    t.responseStarted();
    t.responseDone(8000);
    expect(t.check(12_999, TIMEOUT)).toBeNull();
    expect(t.check(13_000, TIMEOUT)).toEqual({ startMs: 8000, endMs: 13_000 });
  });

  it('after firing without a response it does not fire again until something happens', () => {
    const t = new IdleTracker();
    expect(t.check(5000, TIMEOUT)).not.toBeNull();
    // The idle turn ran and answered nothing (create_response off).
    expect(t.check(6000, TIMEOUT, true)).toBeNull();
    expect(t.check(30_000, TIMEOUT)).toBeNull();
    t.speechStarted();
    t.utteranceCommitted(31_000, false);
    expect(t.check(36_000, TIMEOUT)).toEqual({ startMs: 31_000, endMs: 36_000 });
  });

  it('speech cleared from the buffer: silence counts from the clear', () => {
    const t = new IdleTracker();
    t.speechStarted();
    expect(t.check(10_000, TIMEOUT)).toBeNull();
    t.cleared(10_000);
    expect(t.check(14_999, TIMEOUT)).toBeNull();
    expect(t.check(15_000, TIMEOUT)).toEqual({ startMs: 10_000, endMs: 15_000 });
  });

  it('no timeout configured: never fires', () => {
    const t = new IdleTracker();
    expect(t.check(1e9, null)).toBeNull();
  });
});
