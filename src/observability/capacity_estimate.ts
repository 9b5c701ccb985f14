// Admission by predicted capacity. The load watches (load_monitor.ts) are reactive: lag shows only once a
// resource is already past its capacity, and sessions that connect in a burst are all admitted before the
// first late window is seen. This estimate predicts instead: each interval it takes every watched
// resource's utilization (busy fraction, 0..1: the main event loop, the VAD thread), divides it by the
// sessions that were already running through the whole interval to get a per-session cost (smoothed), and
// counts the sessions admitted recently (not yet fully visible in the samples) at that cost. The
// utilization taken is the peak of the last few samples: load comes in waves (utterances end, captions
// run, the garbage collector), lag comes from the peaks, and a quiet second between two busy ones must not
// let a burst in. One more session
// is refused once utilization + (starting + 1) x cost would pass the bound. Before any cost is known (the
// first seconds, or a server that never had a settled session), at most slowStartPerS sessions a second are
// admitted, so a burst cannot overshoot while nothing has been measured.
//
// The cost per session divides the whole utilization (idle overhead included) by the session count: at low
// counts it overestimates, so the estimate errs on refusing, and it converges as sessions are admitted.

export interface CapacityEstimateOptions {
  /** Predicted utilization (0..1) of any resource past which new sessions are refused; 0 turns this off. */
  maxUtilization: number;
  /** Sessions admitted per second while no per-session cost is known yet (slow start). */
  slowStartPerS: number;
  /**
   * Below this many active sessions nothing is refused: with a handful of sessions the measured cost is
   * mostly the server's own overhead and one client's upload burst, not a per-session cost.
   */
  minSessions: number;
  /**
   * How long after its admission a session's load is taken as not yet fully in the samples, ms: it is
   * counted as starting, at the estimated cost (a session's load builds up: its first utterance, then its
   * captions in the engine).
   */
  settleMs: number;
  /**
   * Age from which a session counts in the per-session cost's denominator, ms (one sampling interval: its
   * load is at least partly in the sample). Sessions between this and settleMs count in both, which errs on
   * refusing.
   */
  costAfterMs: number;
  /** Weight of a new sample in the smoothed per-session cost (0..1], default 0.5. */
  smoothing?: number;
  nowMs?: () => number;
}

interface ResourceState {
  /** Last interval's busy fraction, 0..1. */
  utilization: number;
  /** The last PEAK_WINDOW_SAMPLES busy fractions, newest last. */
  recent: number[];
  /** Smoothed utilization per settled session, or null before the first settled sample. */
  costPerSession: number | null;
}

/** Samples (intervals) whose peak utilization is taken: a few seconds, about one wave of utterances. */
export const PEAK_WINDOW_SAMPLES = 5;
/** Window of the slow-start count, ms. */
const SLOW_START_WINDOW_MS = 1000;

export class CapacityEstimate {
  /**
   * Admissions within the last max(settleMs, 1 s), oldest first; `open` until the session ends (a session
   * that already ended is not starting). Bounded: pruned by age on every use, and admissions themselves are
   * bounded by limits.max_sessions.
   */
  private readonly recentAdmits: { atMs: number; open: boolean }[] = [];
  private readonly resources = new Map<string, ResourceState>();
  private readonly nowMs: () => number;
  private readonly smoothing: number;

  constructor(private readonly opts: CapacityEstimateOptions) {
    this.nowMs = opts.nowMs ?? (() => performance.now());
    this.smoothing = opts.smoothing ?? 0.5;
  }

  get enabled(): boolean {
    return this.opts.maxUtilization > 0;
  }

  /**
   * A session was admitted now: it counts as starting until settleMs have passed or it ends. Returns the
   * call that says it ended (idempotent).
   */
  noteAdmitted(): () => void {
    if (!this.enabled) return () => {};
    const entry = { atMs: this.nowMs(), open: true };
    this.recentAdmits.push(entry);
    return () => {
      entry.open = false;
    };
  }

  /** Open sessions admitted within settleMs (their load is not yet fully in the samples). */
  get startingSessions(): number {
    return this.openAdmittedSince(this.opts.settleMs);
  }

  /** Per-session cost of `resource` (0..1 of the resource), or null before it is known. */
  costPerSession(resource: string): number | null {
    return this.resources.get(resource)?.costPerSession ?? null;
  }

  /**
   * One interval's utilization of each resource (0..1) with the sessions active at its end. Sessions admitted
   * within costAfterMs are left out of the per-session cost's denominator; an interval without an older
   * session keeps the previous cost.
   */
  update(utilization: Readonly<Record<string, number>>, activeSessions: number): void {
    const settled = activeSessions - this.openAdmittedSince(this.opts.costAfterMs);
    for (const [name, raw] of Object.entries(utilization)) {
      const u = Number.isFinite(raw) ? Math.min(Math.max(raw, 0), 1) : 0;
      const state = this.resources.get(name) ?? { utilization: u, recent: [], costPerSession: null };
      state.utilization = u;
      state.recent.push(u);
      if (state.recent.length > PEAK_WINDOW_SAMPLES) state.recent.shift();
      if (settled >= 1) {
        const sample = u / settled;
        state.costPerSession =
          state.costPerSession === null
            ? sample
            : this.smoothing * sample + (1 - this.smoothing) * state.costPerSession;
      }
      this.resources.set(name, state);
    }
  }

  /** Why one more session would not fit beside `activeSessions` (a message for the refusal), or null. */
  refusal(activeSessions: number): string | null {
    if (!this.enabled || activeSessions < this.opts.minSessions) return null;
    const starting = this.startingSessions;
    const bound = this.opts.maxUtilization;
    let known = false;
    for (const [name, state] of this.resources) {
      const { costPerSession } = state;
      if (costPerSession === null) continue;
      known = true;
      const utilization = Math.max(...state.recent);
      const predicted = utilization + (starting + 1) * costPerSession;
      if (predicted > bound) {
        return `The server is at its predicted capacity (${name} ${pct(utilization)} busy at its recent peak, ${starting} sessions starting at about ${pct(costPerSession, 2)} each; one more would pass ${pct(bound)}); retry later.`;
      }
    }
    if (known) return null;
    if (this.openAdmittedSince(SLOW_START_WINDOW_MS) >= this.opts.slowStartPerS) {
      return `The server is still measuring its capacity and admits at most ${this.opts.slowStartPerS} sessions a second until then; retry later.`;
    }
    return null;
  }

  private openAdmittedSince(windowMs: number): number {
    this.prune();
    const since = this.nowMs() - windowMs;
    let n = 0;
    for (let i = this.recentAdmits.length - 1; i >= 0 && this.recentAdmits[i].atMs > since; i--) {
      if (this.recentAdmits[i].open) n++;
    }
    return n;
  }

  private prune(): void {
    const keepSince = this.nowMs() - Math.max(this.opts.settleMs, SLOW_START_WINDOW_MS);
    let drop = 0;
    while (drop < this.recentAdmits.length && this.recentAdmits[drop].atMs <= keepSince) drop++;
    if (drop > 0) this.recentAdmits.splice(0, drop);
  }
}

function pct(fraction: number, digits = 0): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}
