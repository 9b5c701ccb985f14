// A real-time clock for outbound audio frames. werift sends whatever it is given at once, so the server
// paces its own output: frame n is due at start + n * frameMs on the wall clock. Each wake-up sends every
// frame that is due and asks for the next wake-up against that absolute deadline, so timer lateness never
// accumulates (a setInterval, or a setTimeout(frameMs) chain, drifts later by each tick's lateness). The
// wake-ups come from one pacing clock shared by every call (pacing_clock.ts).
import {
  type PacedStream,
  type PacerClock,
  type PacingClock,
  SYSTEM_CLOCK,
  sharedPacingClock,
} from './pacing_clock.ts';

export { type PacerClock, SYSTEM_CLOCK } from './pacing_clock.ts';

export interface FramePacerOptions {
  frameMs: number;
  /**
   * Most frames sent in one tick when the timer woke up late. A longer stall (a blocked event loop) is
   * not made up in one burst: the schedule is moved forward instead, so the peer's jitter buffer sees at
   * most this many frames at once.
   */
  maxCatchUpFrames: number;
  /**
   * How far ahead of its deadline a frame may leave, in ms (0 by default: never early). Calls whose
   * deadlines lie within this margin share a wake-up of the pacing clock.
   */
  earlyMs?: number;
  /** Sends the next frame, due at dueAtMs on the clock; false when there is nothing to send, which stops the pacer. */
  sendFrame: (dueAtMs: number) => boolean;
  /** Called once the pacer stopped because sendFrame had nothing to send. */
  onIdle?: () => void;
  clock?: PacerClock;
  /** The pacing clock to share (by default the process-wide one for `clock` and `earlyMs`). */
  pacing?: PacingClock;
}

export interface FramePacerStats {
  framesSent: number;
  /** Times the schedule was moved forward because the timer woke more than maxCatchUpFrames late. */
  resyncs: number;
}

export class FramePacer implements PacedStream {
  private readonly clock: PacerClock;
  private readonly pacing: PacingClock;
  private startedAtMs = 0;
  /** Frames sent since start(): frame n is due at startedAtMs + n * frameMs. */
  private frameIndex = 0;
  private running = false;
  readonly stats: FramePacerStats = { framesSent: 0, resyncs: 0 };

  constructor(private readonly opts: FramePacerOptions) {
    this.clock = opts.clock ?? SYSTEM_CLOCK;
    this.pacing = opts.pacing ?? sharedPacingClock(this.clock, opts.earlyMs ?? 0);
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
    this.onDue(this.startedAtMs);
  }

  stop(): void {
    this.running = false;
    this.pacing.cancel(this);
  }

  /** Sends every frame due by nowMs (plus the pacing clock's early margin), then asks for the next wake-up. */
  onDue(nowMs: number): void {
    if (!this.running) return;
    const { frameMs, maxCatchUpFrames } = this.opts;
    const horizonMs = nowMs + this.pacing.earlyMs;
    let sentThisTick = 0;
    while (this.running && horizonMs >= this.dueAtMs()) {
      if (sentThisTick === maxCatchUpFrames) {
        // Too late to catch up without a burst: the schedule continues one frame after the last one sent.
        this.stats.resyncs++;
        this.startedAtMs = nowMs - (this.frameIndex - 1) * frameMs;
        break;
      }
      if (!this.opts.sendFrame(this.dueAtMs())) {
        this.stop();
        this.opts.onIdle?.();
        return;
      }
      this.frameIndex++;
      sentThisTick++;
      this.stats.framesSent++;
    }
    if (this.running) this.pacing.schedule(this, this.dueAtMs());
  }

  private dueAtMs(): number {
    return this.startedAtMs + this.frameIndex * this.opts.frameMs;
  }
}
