import type { LimitsConfig } from '../config/auth_limits_store_schema.ts';
import type { ErrorCode } from '../errors.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';
import type { RateLimit } from '../protocol/server_items.ts';
import { ANONYMOUS_KEY_ID } from './auth.ts';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER } from './close_codes.ts';

export { CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER };

export type RejectReason = 'max_sessions' | 'max_sessions_per_key' | 'draining' | 'engine_busy' | 'overloaded';
export type ExpiryReason = 'max_duration' | 'idle_timeout';

export interface AdmissionLimits {
  maxSessions: number;
  maxSessionsPerKey: number;
  maxSessionDurationMs: number;
  idleTimeoutMs: number;
}

/**
 * A refusal, ready for either transport: before the upgrade answer `httpStatus` (with Retry-After);
 * after it, send an `error` event with `code` and close with `closeCode`.
 */
export interface Rejection {
  ok: false;
  reason: RejectReason;
  code: ErrorCode;
  httpStatus: 429 | 503;
  closeCode: number;
  message: string;
  retryAfterS: number;
}

/** Why an admitted session is being ended by the server: send an `error` event with `code`, then close. */
export interface SessionExpiry {
  reason: ExpiryReason;
  code: 'E_SESSION_EXPIRED' | 'E_IDLE_TIMEOUT';
  closeCode: number;
  message: string;
}

export interface SessionTicket {
  readonly keyId: string;
  readonly admittedAtMs: number;
  /** Call on every client message (event or audio frame): resets the idle clock. Cheap (one store). */
  touch(): void;
  /** Frees the slot; idempotent. Call from the session's single teardown path. */
  release(): void;
  readonly released: boolean;
}

export type AdmissionDecision = { ok: true; ticket: SessionTicket } | Rejection;

export interface AdmissionOptions {
  metrics?: Pick<EarshotMetrics, 'sessionsActive' | 'sessionsTotal' | 'sessionsRejected'>;
  /** True while the engine cannot take another session without hurting admitted ones. */
  isEngineSaturated?: () => boolean;
  /** The event loop is behind (observability/load_monitor.ts): a message for the refusal, or null. */
  overload?: () => string | null;
  /**
   * Admission by predicted capacity (observability/capacity_estimate.ts): why one more session would not
   * fit, or null; and the note of each admission (sessions still starting count at their estimated cost),
   * whose returned call says the session ended.
   */
  capacity?: { refusal(activeSessions: number): string | null; noteAdmitted(): () => void };
  nowMs?: () => number;
}

/** Retry hint for capacity refusals: sessions last minutes, so a few seconds avoids a reconnect storm. */
const CAPACITY_RETRY_AFTER_S = 5;

export function limitsFromConfig(cfg: LimitsConfig): AdmissionLimits {
  return {
    maxSessions: cfg.max_sessions,
    maxSessionsPerKey: cfg.max_sessions_per_key,
    maxSessionDurationMs: cfg.max_session_duration_ms,
    idleTimeoutMs: cfg.idle_timeout_ms,
  };
}

/**
 * Session admission: global and per-key concurrency, draining for shutdown, engine saturation, and the
 * duration / idle deadlines of admitted sessions. New work past capacity is refused up front so that
 * admitted sessions keep their latency instead of everyone degrading.
 */
export class AdmissionController {
  private active = 0;
  private readonly perKey = new Map<string, number>();
  private draining = false;
  private readonly nowMs: () => number;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly opts: AdmissionOptions = {},
  ) {
    this.nowMs = opts.nowMs ?? (() => Date.now());
  }

  static fromConfig(cfg: LimitsConfig, opts?: AdmissionOptions): AdmissionController {
    return new AdmissionController(limitsFromConfig(cfg), opts);
  }

  get activeSessions(): number {
    return this.active;
  }

  activeFor(keyId: string): number {
    return this.perKey.get(keyId) ?? 0;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stop admitting (graceful shutdown); admitted sessions are unaffected. */
  drain(): void {
    this.draining = true;
  }

  /** Refusal that admit() would return now, without taking a slot (for a check before the upgrade). */
  check(keyId: string): Rejection | null {
    if (this.draining)
      return this.reject(
        'draining',
        'E_DRAINING',
        503,
        CLOSE_GOING_AWAY,
        'The server is shutting down; connect to another instance or retry later.',
      );
    if (this.active >= this.limits.maxSessions) {
      return this.reject(
        'max_sessions',
        'E_CAPACITY',
        503,
        CLOSE_TRY_AGAIN_LATER,
        `The server is at its limit of ${this.limits.maxSessions} concurrent sessions; retry later.`,
      );
    }
    // Without API keys every session is 'anonymous': one tenant, bounded by max_sessions alone.
    if (keyId !== ANONYMOUS_KEY_ID && this.activeFor(keyId) >= this.limits.maxSessionsPerKey) {
      return this.reject(
        'max_sessions_per_key',
        'E_KEY_CAPACITY',
        429,
        CLOSE_TRY_AGAIN_LATER,
        `This API key is at its limit of ${this.limits.maxSessionsPerKey} concurrent sessions; close one or retry later.`,
      );
    }
    const overload = this.opts.overload?.() ?? this.opts.capacity?.refusal(this.active);
    if (overload) return this.reject('overloaded', 'E_OVERLOADED', 503, CLOSE_TRY_AGAIN_LATER, overload);
    if (this.opts.isEngineSaturated?.()) {
      return this.reject(
        'engine_busy',
        'E_ENGINE_BUSY',
        503,
        CLOSE_TRY_AGAIN_LATER,
        'The engine is at capacity; retry later.',
      );
    }
    return null;
  }

  /**
   * Takes a slot for `keyId` or says why not. `onExpire` is called once if the session outlives
   * maxSessionDurationMs or stays silent for idleTimeoutMs; the caller then sends the error and closes
   * (and releases the ticket from its teardown path).
   */
  admit(keyId: string, onExpire: (expiry: SessionExpiry) => void): AdmissionDecision {
    const rejection = this.check(keyId);
    if (rejection) {
      this.opts.metrics?.sessionsRejected.inc({ reason: rejection.reason });
      return rejection;
    }
    this.active += 1;
    this.perKey.set(keyId, this.activeFor(keyId) + 1);
    this.opts.metrics?.sessionsActive.inc();
    this.opts.metrics?.sessionsTotal.inc();
    const ended = this.opts.capacity?.noteAdmitted();
    return { ok: true, ticket: this.openTicket(keyId, onExpire, ended) };
  }

  /** Records a refusal decided elsewhere (auth), so every rejection shows up in one metric. */
  recordRejection(reason: 'unauthorized' | 'forbidden_origin'): void {
    this.opts.metrics?.sessionsRejected.inc({ reason });
  }

  /**
   * Payload of `rate_limits.updated` for `keyId`: `requests` is the session capacity this key can still
   * use (the tighter of its own and the server's), `tokens` the session's context budget when given.
   */
  rateLimitsEvent(
    keyId: string,
    context?: { limitTokens: number; usedTokens: number },
  ): { type: 'rate_limits.updated'; rate_limits: RateLimit[] } {
    const perKey = keyId === ANONYMOUS_KEY_ID ? this.limits.maxSessions : this.limits.maxSessionsPerKey;
    const keyRemaining = perKey - this.activeFor(keyId);
    const globalRemaining = this.limits.maxSessions - this.active;
    const rateLimits: RateLimit[] = [
      {
        name: 'requests',
        limit: Math.min(perKey, this.limits.maxSessions),
        // Nothing is left while draining or while the server is behind real time (new sessions are refused).
        remaining:
          this.draining || this.opts.overload?.() || this.opts.capacity?.refusal(this.active)
            ? 0
            : Math.max(0, Math.min(keyRemaining, globalRemaining)),
        reset_seconds: 0,
      },
    ];
    if (context) {
      rateLimits.push({
        name: 'tokens',
        limit: context.limitTokens,
        remaining: Math.max(0, context.limitTokens - context.usedTokens),
        reset_seconds: 0,
      });
    }
    return { type: 'rate_limits.updated', rate_limits: rateLimits };
  }

  private reject(
    reason: RejectReason,
    code: ErrorCode,
    httpStatus: 429 | 503,
    closeCode: number,
    message: string,
  ): Rejection {
    return { ok: false, reason, code, httpStatus, closeCode, message, retryAfterS: CAPACITY_RETRY_AFTER_S };
  }

  private openTicket(keyId: string, onExpire: (expiry: SessionExpiry) => void, onRelease?: () => void): SessionTicket {
    const admittedAtMs = this.nowMs();
    let lastActivityMs = admittedAtMs;
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const { maxSessionDurationMs, idleTimeoutMs } = this.limits;
    const expire = (expiry: SessionExpiry) => {
      if (released) return;
      clearTimeout(timer);
      timer = undefined;
      onExpire(expiry);
    };
    // One timer per session, aimed at the nearer deadline; touch() only stores a time, so 50 audio frames
    // a second cost no timer churn. When the idle deadline arrives early, the timer re-aims.
    const schedule = () => {
      if (released) return;
      const now = this.nowMs();
      const durationDeadline = admittedAtMs + maxSessionDurationMs;
      const idleDeadline = lastActivityMs + idleTimeoutMs;
      if (now >= durationDeadline) {
        return expire({
          reason: 'max_duration',
          code: 'E_SESSION_EXPIRED',
          closeCode: CLOSE_POLICY,
          message: `The session reached its maximum duration of ${formatMs(maxSessionDurationMs)}.`,
        });
      }
      if (now >= idleDeadline) {
        return expire({
          reason: 'idle_timeout',
          code: 'E_IDLE_TIMEOUT',
          closeCode: CLOSE_POLICY,
          message: `The session received nothing for ${formatMs(idleTimeoutMs)} and was closed.`,
        });
      }
      timer = setTimeout(schedule, Math.min(durationDeadline, idleDeadline) - now);
      timer.unref();
    };
    schedule();
    const ticket: SessionTicket = {
      keyId,
      admittedAtMs,
      touch: () => {
        lastActivityMs = this.nowMs();
      },
      release: () => {
        if (released) return;
        released = true;
        clearTimeout(timer);
        this.active -= 1;
        const left = this.activeFor(keyId) - 1;
        if (left <= 0) this.perKey.delete(keyId);
        else this.perKey.set(keyId, left);
        this.opts.metrics?.sessionsActive.dec();
        onRelease?.();
      },
      get released() {
        return released;
      },
    };
    return ticket;
  }
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
