// The pacing clock every call's frame pacer shares, with a fake clock: one real timer for many calls,
// frames never more than earlyMs ahead of their own call's deadline, drift correction and catch-up kept
// per call, and no timer left once every call has stopped.
import { describe, expect, it } from 'vitest';
import { FramePacer } from '../../../src/transport/webrtc/frame_pacer.ts';
import { PacingClock, sharedPacingClock } from '../../../src/transport/webrtc/pacing_clock.ts';
import { FakeClock } from '../../helpers/fake_clock.ts';

interface Call {
  pacer: FramePacer;
  startMs: number;
  sentAtMs: number[];
  dueAtMs: number[];
}

function callOn(clock: FakeClock, pacing: PacingClock, frames: number): Call {
  const call: Call = { pacer: undefined as unknown as FramePacer, startMs: 0, sentAtMs: [], dueAtMs: [] };
  call.pacer = new FramePacer({
    frameMs: 20,
    maxCatchUpFrames: 3,
    clock,
    pacing,
    sendFrame: (dueAtMs) => {
      if (call.sentAtMs.length === frames) return false;
      call.sentAtMs.push(clock.now());
      call.dueAtMs.push(dueAtMs);
      return true;
    },
  });
  return call;
}

/** 20 calls started 1 ms apart, each playing `frames` frames. */
function twentyCalls(clock: FakeClock, pacing: PacingClock, frames: number): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 20; i++) {
    const call = callOn(clock, pacing, frames);
    call.startMs = clock.now();
    call.pacer.start();
    calls.push(call);
    clock.advance(1);
  }
  return calls;
}

describe('PacingClock', () => {
  it('paces 20 calls with one timer: each frame within earlyMs before its own deadline, far fewer wake-ups than frames', () => {
    const clock = new FakeClock();
    const pacing = new PacingClock(clock, 2);
    const calls = twentyCalls(clock, pacing, 50);
    clock.advance(2_000);
    let frames = 0;
    for (const call of calls) {
      expect(call.sentAtMs).toHaveLength(50);
      call.sentAtMs.forEach((atMs, n) => {
        const dueMs = call.startMs + n * 20;
        expect(call.dueAtMs[n]).toBe(dueMs);
        expect(atMs - dueMs).toBeGreaterThanOrEqual(-2);
        expect(atMs - dueMs).toBeLessThanOrEqual(0);
      });
      frames += call.sentAtMs.length;
    }
    // 1,000 frames (20 sent by start()); deadlines 1 ms apart share wake-ups two or three at a time.
    expect(pacing.wakeUps).toBeLessThanOrEqual(frames / 2);
    expect(pacing.scheduled).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with earlyMs 0 no frame leaves before its deadline', () => {
    const clock = new FakeClock();
    let n = 0;
    clock.lateness = () => (n++ * 3) % 5;
    const pacing = new PacingClock(clock, 0);
    const calls = twentyCalls(clock, pacing, 100);
    clock.advance(3_000);
    for (const call of calls) {
      expect(call.sentAtMs).toHaveLength(100);
      call.sentAtMs.forEach((atMs, k) => {
        expect(atMs - (call.startMs + k * 20)).toBeGreaterThanOrEqual(0);
        expect(atMs - (call.startMs + k * 20)).toBeLessThan(5);
      });
    }
  });

  it('keeps drift correction and the catch-up bound per call after a stall shared by all', () => {
    const clock = new FakeClock();
    const pacing = new PacingClock(clock, 2);
    const calls = twentyCalls(clock, pacing, 1_000);
    clock.advance(100);
    clock.block(500); // the event loop is blocked: every call has ~25 frames due
    clock.advance(0);
    for (const call of calls) {
      expect(call.pacer.stats.resyncs).toBe(1);
      // No burst past maxCatchUpFrames: the three frames sent on waking leave together.
      const atStall = call.sentAtMs.filter((t) => t === call.sentAtMs[call.sentAtMs.length - 1]);
      expect(atStall).toHaveLength(3);
    }
    const counts = calls.map((c) => c.sentAtMs.length);
    clock.advance(1_000);
    // After the stall each call runs at real time again: 50 frames per second, give or take one.
    calls.forEach((call, i) => {
      expect(call.sentAtMs.length - counts[i]).toBeGreaterThanOrEqual(49);
      expect(call.sentAtMs.length - counts[i]).toBeLessThanOrEqual(51);
    });
    for (const call of calls) call.pacer.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('stopping one call leaves the others on time; the timer goes when the last one stops', () => {
    const clock = new FakeClock();
    const pacing = new PacingClock(clock, 2);
    const a = callOn(clock, pacing, 1_000);
    const b = callOn(clock, pacing, 1_000);
    a.pacer.start();
    clock.advance(7);
    b.pacer.start();
    clock.advance(100);
    a.pacer.stop();
    expect(pacing.scheduled).toBe(1);
    const sentByA = a.sentAtMs.length;
    clock.advance(100);
    expect(a.sentAtMs).toHaveLength(sentByA);
    expect(b.sentAtMs).toHaveLength(11); // t = 7, 27, ..., 207 less at most 2 ms early
    b.pacer.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('is shared per clock and margin: every pacer built without one uses the same', () => {
    const clock = new FakeClock();
    expect(sharedPacingClock(clock, 2)).toBe(sharedPacingClock(clock, 2));
    expect(sharedPacingClock(clock, 2)).not.toBe(sharedPacingClock(clock, 0));
    expect(sharedPacingClock(new FakeClock(), 2)).not.toBe(sharedPacingClock(clock, 2));
  });
});
