import { setTimeout as sleep } from 'node:timers/promises';

// Bounded retries with exponential backoff for cut transfers and transient hub errors (5xx, 429).

export interface RetryPolicy {
  /**
   * Consecutive failed attempts allowed without any new byte written. An attempt that made progress resets the
   * count, so a multi-GB file survives many cuts while a dead link still gives up after this many tries.
   */
  maxRetries: number;
  /** Wait before the first retry, in ms; doubled after each failure without progress. */
  initialDelayMs: number;
  /** Cap on the wait between two attempts, in ms. */
  maxDelayMs: number;
}

// 5 retries at 1, 2, 4, 8, 16 s: about half a minute of patience for a flaky link before giving up.
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 5, initialDelayMs: 1_000, maxDelayMs: 16_000 };

/** Wait before retry number `failures` (1-based). No jitter: one client per machine, and tests stay exact. */
export function backoffDelayMs(failures: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, failures - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
}

/** Sleeps `delayMs`, rejecting with the signal's reason when it is aborted first. */
export async function waitBeforeRetry(delayMs: number, signal?: AbortSignal): Promise<void> {
  if (delayMs <= 0) {
    signal?.throwIfAborted();
    return;
  }
  await sleep(delayMs, undefined, { signal });
}
