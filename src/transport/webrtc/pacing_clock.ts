// One timer for every call's outbound audio. Each call keeps its own schedule (frame n due at its own
// start + n * frameMs); the clock only decides when the process wakes up. With 20 calls on independent
// timers the process wakes 1,000 times a second, each wake-up a chance to wait for a busy CPU; here one
// wake-up serves every call whose next frame is due within `earlyMs` of it, so calls whose deadlines lie
// close together share it. The timer is armed half that margin before the earliest deadline: the usual
// millisecond of timer lateness then lands about on the deadline rather than after it, and a punctual
// wake-up still serves the deadlines up to earlyMs / 2 after the earliest one.

/** The clock and timers pacing uses; tests pass fake ones. */
export interface PacerClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: PacerClock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the clock wakes: a pacer with its next deadline. */
export interface PacedStream {
  /** Sends every frame due by nowMs + earlyMs and reschedules itself (or not, when it has stopped). */
  onDue(nowMs: number): void;
}

export class PacingClock {
  private readonly deadlines = new Map<PacedStream, number>();
  private timer: unknown = null;
  private armedAtMs = Number.POSITIVE_INFINITY;
  /** True while fire() wakes streams: their reschedules wait for the single arm() at its end. */
  private firing = false;
  /** Real timer wake-ups, for tests and diagnostics. */
  wakeUps = 0;

  constructor(
    readonly clock: PacerClock,
    /** How far ahead of its deadline a frame may leave, in ms (0: never early). */
    readonly earlyMs: number,
  ) {}

  /** Streams waiting for their next deadline. */
  get scheduled(): number {
    return this.deadlines.size;
  }

  /** Wakes `stream` once its deadline is within earlyMs (replaces any earlier request of the same stream). */
  schedule(stream: PacedStream, deadlineMs: number): void {
    this.deadlines.set(stream, deadlineMs);
    this.arm();
  }

  cancel(stream: PacedStream): void {
    if (!this.deadlines.delete(stream)) return;
    if (this.deadlines.size === 0) this.disarm();
  }

  private arm(): void {
    if (this.firing) return;
    let earliestMs = Number.POSITIVE_INFINITY;
    for (const deadlineMs of this.deadlines.values()) earliestMs = Math.min(earliestMs, deadlineMs);
    const wakeAtMs = earliestMs - this.earlyMs / 2;
    if (this.timer !== null && this.armedAtMs <= wakeAtMs) return;
    this.disarm();
    if (earliestMs === Number.POSITIVE_INFINITY) return;
    this.armedAtMs = wakeAtMs;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, wakeAtMs - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedAtMs = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = null;
    this.armedAtMs = Number.POSITIVE_INFINITY;
    this.wakeUps++;
    const nowMs = this.clock.now();
    const horizonMs = nowMs + this.earlyMs;
    // A stream woken here may stop or reschedule others (a flush, a hang-up): each is checked as it comes.
    this.firing = true;
    try {
      for (const [stream, deadlineMs] of [...this.deadlines]) {
        if (deadlineMs > horizonMs || this.deadlines.get(stream) !== deadlineMs) continue;
        this.deadlines.delete(stream);
        stream.onDue(nowMs);
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }
}

const shared = new WeakMap<PacerClock, Map<number, PacingClock>>();

/** The process-wide pacing clock for this clock and early margin: every call's pacer shares it. */
export function sharedPacingClock(clock: PacerClock, earlyMs: number): PacingClock {
  let byEarly = shared.get(clock);
  if (!byEarly) {
    byEarly = new Map();
    shared.set(clock, byEarly);
  }
  let pacing = byEarly.get(earlyMs);
  if (!pacing) {
    pacing = new PacingClock(clock, earlyMs);
    byEarly.set(earlyMs, pacing);
  }
  return pacing;
}
