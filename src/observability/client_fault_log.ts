// Logging of failed turns. A failure the client caused (a bad item, a context overflow, a full queue) is
// not a server fault: it is logged at warn, without a stack, and at most `perWindow` times per window
// (then one line with the number left out), so a client cannot flood the log. Server faults (engine,
// internal errors, non-Earshot exceptions) stay at error level with their stack.
import { isEarshotError, type ErrorCode } from '../errors.ts';
import type { Logger } from './logger.ts';

/** Codes whose cause is on the server's side (as the protocol's server_error type). */
const SERVER_FAULTS: ReadonlySet<string> = new Set<ErrorCode>([
  'E_VAD_MODEL',
  'E_MODEL_MISSING',
  'E_MODEL_INVALID',
  'E_MODEL_PULL',
  'E_ENGINE',
  'E_INTERNAL',
  'E_ENGINE_WORKER_EXITED',
  'E_STORE',
]);

export interface ClientFaultLogOptions {
  /** Client-caused failures logged per window; more are counted and summarised. */
  perWindow?: number;
  windowMs?: number;
  nowMs?: () => number;
}

export class ClientFaultLog {
  private windowStartMs = -Infinity;
  private logged = 0;
  private suppressed = 0;
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly nowMs: () => number;

  constructor(opts: ClientFaultLogOptions = {}) {
    this.perWindow = opts.perWindow ?? 10;
    this.windowMs = opts.windowMs ?? 10_000;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** Logs a failed turn at the level its cause deserves. */
  turnFailed(log: Logger, err: unknown): void {
    const code = errorCodeOf(err);
    if (code === null || SERVER_FAULTS.has(code)) {
      log.error({ err }, 'turn failed');
      return;
    }
    const now = this.nowMs();
    if (now - this.windowStartMs >= this.windowMs) {
      if (this.suppressed > 0)
        log.warn({ suppressed: this.suppressed, windowMs: this.windowMs }, 'client-caused turn failures not logged');
      this.windowStartMs = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged >= this.perWindow) {
      this.suppressed++;
      return;
    }
    this.logged++;
    log.warn(
      { code, message: err instanceof Error ? err.message.slice(0, 300) : undefined },
      'turn failed (client request)',
    );
  }
}

/** One process-wide limiter: the flood to bound is the log's, whatever the connection. */
export const clientFaultLog = new ClientFaultLog();

function errorCodeOf(err: unknown): string | null {
  return isEarshotError(err) ? err.code : null;
}
