// Is the server keeping up? The event loop carries every connection's audio (decoding, resampling, turn
// detection, events); when its delay grows past a bound, each admitted session's events are already late,
// and one more session would make them later. The monitor takes the event-loop delay p99 of each
// interval; above the limit the server counts as overloaded (new sessions are refused, /readyz says 503)
// until the delay falls back under half the limit (hysteresis, so it does not flap at the edge).

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling resolution of the delay histogram, ms. */
const RESOLUTION_MS = 10;
export const DEFAULT_LOAD_INTERVAL_MS = 1000;

export interface LoadMonitorOptions {
  /** Event-loop delay p99 (ms) above which the server is overloaded; 0 turns the monitor off. */
  maxEventLoopDelayMs: number;
  intervalMs?: number;
  /** The delay p99 of the interval just ended, in ms (tests inject one); default: perf_hooks histogram. */
  sampleDelayMs?: () => number;
  onChange?: (overloaded: boolean, delayMs: number) => void;
}

export class LoadMonitor {
  private overloadedNow = false;
  private lastDelayMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private histogram: IntervalHistogram | undefined;

  constructor(private readonly opts: LoadMonitorOptions) {}

  get overloaded(): boolean {
    return this.overloadedNow;
  }

  /** Event-loop delay p99 of the last interval, ms. */
  get delayMs(): number {
    return this.lastDelayMs;
  }

  get limitMs(): number {
    return this.opts.maxEventLoopDelayMs;
  }

  start(): this {
    if (this.opts.maxEventLoopDelayMs <= 0 || this.timer) return this;
    let sample = this.opts.sampleDelayMs;
    if (!sample) {
      const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
      this.histogram = histogram;
      sample = () => {
        const p99Ms = histogram.percentile(99) / 1e6;
        histogram.reset();
        return p99Ms;
      };
    }
    const take = sample;
    this.timer = setInterval(() => this.update(take()), this.opts.intervalMs ?? DEFAULT_LOAD_INTERVAL_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** One interval's delay p99 (public for tests). */
  update(delayMs: number): void {
    this.lastDelayMs = delayMs;
    const limit = this.opts.maxEventLoopDelayMs;
    const next = this.overloadedNow ? delayMs >= limit / 2 : delayMs > limit;
    if (next !== this.overloadedNow) {
      this.overloadedNow = next;
      this.opts.onChange?.(next, delayMs);
    }
  }
}
