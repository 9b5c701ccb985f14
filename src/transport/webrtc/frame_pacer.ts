// A real-time clock for outbound audio frames. werift sends whatever it is given at once, so the server
// paces its own output: frame n is due at start + n * frameMs on the wall clock. Each tick sends every
// frame that is due and schedules the next one against that absolute deadline, so timer lateness never
// accumulates (a setInterval, or a setTimeout(frameMs) chain, drifts later by each tick's lateness).

/** The clock and timers the pacer uses; tests pass fake ones. */
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

export interface FramePacerOptions {
  frameMs: number;
  /**
   * Most frames sent in one tick when the timer woke up late. A longer stall (a blocked event loop) is
   * not made up in one burst: the schedule is moved forward instead, so the peer's jitter buffer sees at
   * most this many frames at once.
   */
  maxCatchUpFrames: number;
  /**
   * Sends the next frame, due at dueAtMs on the clock; false when there is nothing to send, which stops
   * the pacer.
   */
  sendFrame: (dueAtMs: number) => boolean;
  /** Called once the pacer stopped because sendFrame had nothing to send. */
  onIdle?: () => void;
  clock?: PacerClock;
}

export interface FramePacerStats {
  framesSent: number;
  /** Times the schedule was moved forward because the timer woke more than maxCatchUpFrames late. */
  resyncs: number;
}

export class FramePacer {
  private readonly clock: PacerClock;
  private timer: unknown = null;
  private startedAtMs = 0;
  /** Frames sent since start(): frame n is due at startedAtMs + n * frameMs. */
  private frameIndex = 0;
  private running = false;
  readonly stats: FramePacerStats = { framesSent: 0, resyncs: 0 };

  constructor(private readonly opts: FramePacerOptions) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts sending now (the first frame goes out at once). No-op while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAtMs = this.clock.now();
    this.frameIndex = 0;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.timer = null;
    if (!this.running) return;
    const { frameMs, maxCatchUpFrames } = this.opts;
    let sentThisTick = 0;
    while (this.running && this.clock.now() >= this.startedAtMs + this.frameIndex * frameMs) {
      if (sentThisTick === maxCatchUpFrames) {
        // Too late to catch up without a burst: the schedule continues one frame after the last one sent.
        this.stats.resyncs++;
        this.startedAtMs = this.clock.now() - (this.frameIndex - 1) * frameMs;
        break;
      }
      if (!this.opts.sendFrame(this.startedAtMs + this.frameIndex * frameMs)) {
        this.stop();
        this.opts.onIdle?.();
        return;
      }
      this.frameIndex++;
      sentThisTick++;
      this.stats.framesSent++;
    }
    if (!this.running) return;
    const delayMs = Math.max(0, this.startedAtMs + this.frameIndex * frameMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.tick(), delayMs);
  }
}
