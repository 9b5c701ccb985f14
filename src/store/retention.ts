import type { Logger } from '../observability/logger.ts';
import type { TranscriptStore } from './transcript_store.ts';

export const DAY_MS = 24 * 3600 * 1000;
/** Hourly: retention is counted in days, so an hour's slack is invisible and the sweep is one DELETE. */
export const RETENTION_SWEEP_INTERVAL_MS = 3600 * 1000;

export interface RetentionOptions {
  /** 0 (or less) keeps everything: no sweep is scheduled. */
  retentionDays: number;
  intervalMs?: number;
  log?: Logger;
  nowMs?: () => number;
}

/** Deletes sessions older than retentionDays; returns how many were deleted. */
export function sweepExpiredSessions(store: TranscriptStore, retentionDays: number, nowMs: number): number {
  if (!(retentionDays > 0)) return 0;
  return store.deleteSessionsOlderThan(nowMs - retentionDays * DAY_MS);
}

/**
 * Runs a sweep now (start-up) and then every intervalMs. Returns a stop function for shutdown. The timer
 * is unref'd so it never keeps the process alive.
 */
export function startRetention(store: TranscriptStore, opts: RetentionOptions): { stop(): void; sweepNow(): number } {
  const now = opts.nowMs ?? (() => Date.now());
  const sweepNow = (): number => {
    const deleted = sweepExpiredSessions(store, opts.retentionDays, now());
    if (deleted > 0) opts.log?.info({ deleted, retentionDays: opts.retentionDays }, 'retention: deleted old sessions');
    return deleted;
  };
  if (!(opts.retentionDays > 0)) return { stop: () => {}, sweepNow };
  sweepNow();
  const timer = setInterval(sweepNow, opts.intervalMs ?? RETENTION_SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), sweepNow };
}
