// HTTP plumbing shared by the hub listing and the file downloads: Node 20's global fetch (undici) with a
// bounded wait for the response headers, plus the classification of failures into "cannot reach the hub",
// "transfer cut" and "local disk problem", which decide between failing fast, retrying and giving up.

/**
 * Longest wait for a response's headers, in ms. Covers DNS, TCP and TLS set-up and the hub's first byte;
 * the hub answers in well under 1 s on a working link, so 10 s only trips when the network is really absent.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Longest silence inside a response body, in ms, before the transfer counts as cut and is retried from where
 * it stopped. CDN transfers of multi-GB files occasionally stall without closing; 30 s is well above normal
 * jitter yet short enough that a dead connection is noticed by a user watching the bar.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;

export type FetchImpl = (input: string, init?: RequestInit) => Promise<Response>;

export class ConnectTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no response from ${new URL(url).origin} within ${timeoutMs} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

export class StallTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no data received for ${timeoutMs} ms`);
    this.name = 'StallTimeoutError';
  }
}

export interface TimedFetch {
  response: Response;
  /** Aborts the body stream (used by the stall watchdog). */
  abort(reason: Error): void;
}

/**
 * fetch() that gives up when the headers have not arrived within `connectTimeoutMs`. The caller's signal
 * still cancels everything, including the body read later on. The timeout is an AbortController of our own
 * (not AbortSignal.timeout) so it can be cleared once the headers are in: a 4 GB body legitimately takes longer.
 */
export async function fetchWithConnectTimeout(
  fetchImpl: FetchImpl,
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal; connectTimeoutMs: number },
): Promise<TimedFetch> {
  const controller = new AbortController();
  const signal = init.signal === undefined ? controller.signal : AbortSignal.any([controller.signal, init.signal]);
  const timer = setTimeout(
    () => controller.abort(new ConnectTimeoutError(url, init.connectTimeoutMs)),
    init.connectTimeoutMs,
  );
  try {
    const response = await fetchImpl(url, { headers: init.headers, signal, redirect: 'follow' });
    return { response, abort: (reason) => controller.abort(reason) };
  } catch (err) {
    // undici rejects with the abort reason itself, or with a DOMException wrapping nothing useful.
    if (controller.signal.aborted && !(init.signal?.aborted ?? false)) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// Connection-level failures: nothing came back from the host at all.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// Local disk failures: retrying the download cannot help.
const LOCAL_FS_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  'EMFILE',
  'ENFILE',
]);

/** The first `code` found along the error's cause chain (undici puts the socket error in `cause`). */
export function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the host could not be reached at all (DNS failure, refused, unroutable, connect timeout). */
export function isUnreachableError(err: unknown): boolean {
  if (err instanceof ConnectTimeoutError) return true;
  const code = errorCode(err);
  if (code !== undefined) return UNREACHABLE_CODES.has(code);
  // undici's bare "fetch failed" without a coded cause is still a connection failure.
  return err instanceof TypeError && err.message === 'fetch failed';
}

export function isLocalFsError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && LOCAL_FS_CODES.has(code);
}

/** One-line description of a network error for messages: the code and the innermost message. */
export function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  let innermost: unknown = err;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}
