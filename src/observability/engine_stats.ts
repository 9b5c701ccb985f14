import type { Logger } from './logger.ts';
import type { EarshotMetrics } from './metrics.ts';

/** What EngineHost.totals() reports (the worker's live sessions, KV bytes and queue). */
export interface EngineTotalsLike {
  sessions: number;
  kvBytes: number;
  pendingRequests: number;
  /** Longest wait of a session for its next engine step since the previous poll, ms (absent: unknown). */
  maxStepWaitMs?: number;
}

interface WithTotals {
  totals(): Promise<EngineTotalsLike>;
}

function hasTotals(engine: unknown): engine is WithTotals {
  return typeof (engine as Partial<WithTotals> | null)?.totals === 'function';
}

/**
 * Polls the engine's totals (one small worker message a second) into the queue-depth and KV-bytes gauges,
 * and keeps the last answer for admission: a full engine queue refuses new sessions instead of slowing
 * the admitted ones. Engines without totals() (scripted test engines) are never saturated.
 */
export class EngineStatsPoller {
  private last: EngineTotalsLike | null = null;
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** performance.now() when the unanswered poll was sent: a stalled worker answers nothing. */
  private pollSentAtMs = 0;

  constructor(
    /** Any engine: polled only when it has totals() (observability knows no engine type). */
    private readonly engine: unknown,
    private readonly metrics: EarshotMetrics,
    private readonly opts: { maxPendingRequests: number; intervalMs?: number; log?: Logger },
  ) {}

  start(): this {
    if (!hasTotals(this.engine)) return this;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get totals(): EngineTotalsLike | null {
    return this.last;
  }

  /**
   * How far behind the engine is, ms: the longest a session's turn or step waited in the engine queue over
   * the last poll, or how long the current poll has gone unanswered if that is longer (a worker stuck in one
   * long step answers nothing, and that is exactly when sessions wait).
   */
  get stepWaitMs(): number {
    // Before its first answer the engine is still loading its model: that is not a queue falling behind.
    const unanswered = this.polling && this.last !== null ? performance.now() - this.pollSentAtMs : 0;
    return Math.max(this.last?.maxStepWaitMs ?? 0, unanswered);
  }

  /** The engine queue is at its bound (E_ENGINE_BUSY territory). */
  get saturated(): boolean {
    return this.last !== null && this.last.pendingRequests >= this.opts.maxPendingRequests;
  }

  async poll(): Promise<EngineTotalsLike | null> {
    if (!hasTotals(this.engine) || this.polling) return this.last;
    this.polling = true;
    this.pollSentAtMs = performance.now();
    try {
      const t = await this.engine.totals();
      this.last = t;
      this.metrics.engineQueueDepth.set(t.pendingRequests);
      this.metrics.kvCacheBytes.set(t.kvBytes);
    } catch (err) {
      // A restarting worker or a closed engine: keep the last figures, say why at debug level.
      this.opts.log?.debug({ err: (err as Error).message }, 'engine totals unavailable');
    } finally {
      this.polling = false;
    }
    return this.last;
  }
}
