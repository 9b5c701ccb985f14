// A deterministic clock for timer-driven code that takes a PacerClock: time moves only when the test
// advances it, and each timer can be made to fire late, as an event loop under load does.
import type { PacerClock } from '../../src/transport/webrtc/frame_pacer.ts';

interface Pending {
  id: number;
  dueMs: number;
  callback: () => void;
}

export class FakeClock implements PacerClock {
  private nowMs = 1_000;
  private nextId = 1;
  private pending: Pending[] = [];
  /** Extra delay given to each timer when it is armed (ms): lateness of a busy event loop. */
  lateness: () => number = () => 0;
  /** Delays asked for, in order (for assertions on scheduling). */
  readonly requestedDelaysMs: number[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    this.requestedDelaysMs.push(delayMs);
    const timer = { id: this.nextId++, dueMs: this.nowMs + Math.max(0, delayMs) + this.lateness(), callback };
    this.pending.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  /** Moves time forward by ms, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const endMs = this.nowMs + ms;
    for (;;) {
      this.pending.sort((a, b) => a.dueMs - b.dueMs || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.dueMs > endMs) break;
      this.pending.shift();
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.callback();
    }
    this.nowMs = endMs;
  }

  /** Moves time forward without firing anything: the event loop was blocked for ms. */
  block(ms: number): void {
    this.nowMs += ms;
  }

  get pendingTimers(): number {
    return this.pending.length;
  }
}
