import { describe, expect, it } from 'vitest';
import { FramePacer } from '../../../src/transport/webrtc/frame_pacer.ts';
import { FakeClock } from '../../helpers/fake_clock.ts';

function pacerWith(clock: FakeClock, frames: number, maxCatchUpFrames = 3) {
  const sentAtMs: number[] = [];
  let idle = 0;
  const pacer = new FramePacer({
    frameMs: 20,
    maxCatchUpFrames,
    clock,
    sendFrame: () => {
      if (sentAtMs.length === frames) return false;
      sentAtMs.push(clock.now());
      return true;
    },
    onIdle: () => idle++,
  });
  return { pacer, sentAtMs, idle: () => idle };
}

describe('FramePacer', () => {
  it('sends one frame per 20 ms, the first at once, and stops when there is nothing left', () => {
    const clock = new FakeClock();
    const { pacer, sentAtMs, idle } = pacerWith(clock, 50);
    const startMs = clock.now();
    pacer.start();
    clock.advance(500);
    expect(sentAtMs.length).toBe(26); // t = 0, 20, ..., 500
    clock.advance(1_000);
    expect(sentAtMs.length).toBe(50);
    expect(sentAtMs.map((t) => t - startMs)).toEqual(Array.from({ length: 50 }, (_, i) => i * 20));
    expect(pacer.isRunning).toBe(false);
    expect(idle()).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('corrects drift: late timers do not push later frames back (no accumulation as with setInterval)', () => {
    const clock = new FakeClock();
    // Every timer fires 1-7 ms late; a setTimeout(20) chain would fall ~4 ms further behind per frame.
    let n = 0;
    clock.lateness = () => 1 + ((n++ * 5) % 7);
    const { pacer, sentAtMs } = pacerWith(clock, 10_000);
    const startMs = clock.now();
    pacer.start();
    clock.advance(10_000);
    // Real time decides the count: 10 s is 500 frames (+1 for t = 0), give or take the last late timer.
    expect(sentAtMs.length).toBeGreaterThanOrEqual(500);
    expect(sentAtMs.length).toBeLessThanOrEqual(501);
    // Each frame leaves at most one timer's lateness (< 8 ms) after its own due time, never later.
    sentAtMs.forEach((t, i) => {
      expect(t - startMs - i * 20).toBeGreaterThanOrEqual(0);
      expect(t - startMs - i * 20).toBeLessThan(8);
    });
    // The next delay is measured to the absolute deadline: shorter than 20 ms after a late tick.
    expect(Math.min(...clock.requestedDelaysMs)).toBeLessThan(20);
    pacer.stop();
  });

  it('catches up a short stall in one burst and moves the schedule after a long one', () => {
    const clock = new FakeClock();
    const { pacer, sentAtMs } = pacerWith(clock, 1_000, 3);
    const startMs = clock.now();
    pacer.start();
    clock.advance(100); // frames due at 0, 20, ..., 100
    expect(sentAtMs.length).toBe(6);
    clock.block(50); // the event loop is blocked until t = 150
    clock.advance(0); // the timer due at 120 fires at 150: frames 120 and 140 go out together
    expect(sentAtMs.slice(6).map((t) => t - startMs)).toEqual([150, 150]);
    expect(pacer.stats.resyncs).toBe(0);
    clock.block(500); // blocked until t = 650: 25 frames are due
    clock.advance(0);
    // No 25-frame burst: maxCatchUpFrames go out, and the schedule continues 20 ms later.
    expect(sentAtMs.slice(8).map((t) => t - startMs)).toEqual([650, 650, 650]);
    expect(pacer.stats.resyncs).toBe(1);
    clock.advance(100);
    expect(sentAtMs.slice(11).map((t) => t - startMs)).toEqual([670, 690, 710, 730, 750]);
    pacer.stop();
  });

  it('stop() cancels the pending timer and start() begins a new schedule', () => {
    const clock = new FakeClock();
    const { pacer, sentAtMs } = pacerWith(clock, 100);
    pacer.start();
    clock.advance(40);
    pacer.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000);
    expect(sentAtMs.length).toBe(3);
    pacer.start();
    clock.advance(40);
    expect(sentAtMs.length).toBe(6);
    pacer.stop();
  });
});
