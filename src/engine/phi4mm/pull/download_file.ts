import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { EarshotError } from '../../../errors.ts';
import {
  describeNetworkError,
  fetchWithConnectTimeout,
  isLocalFsError,
  StallTimeoutError,
  type FetchImpl,
} from './net.ts';
import { backoffDelayMs, waitBeforeRetry, type RetryPolicy } from './retry.ts';

// One file: resumable download into `<dest>.part`, verification, then an atomic rename onto `<dest>`.
// The final name therefore only ever holds a complete, verified file; everything partial is `.part`.

export const PART_SUFFIX = '.part';

// Read size for hashing, in bytes: large reads keep a multi-GB sha256 at disk speed.
const HASH_READ_BYTES = 4 * 1024 * 1024;

export interface DownloadFileOptions {
  url: string;
  destPath: string;
  /** Name used in messages (the path inside the model directory). */
  displayPath: string;
  expectedBytes: number;
  /** Lowercase hex sha256; when absent only the size is checked. */
  expectedSha256?: string;
  headers: Record<string, string>;
  fetchImpl: FetchImpl;
  signal?: AbortSignal;
  retry: RetryPolicy;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  /**
   * How many times a file whose sha256 does not match is downloaded again from zero before failing. One by
   * default: a stale `.part` from another revision is repaired silently, a server that keeps sending wrong
   * bytes still fails with both hashes named.
   */
  corruptRetries: number;
  /** Bytes now on disk for this file changed by `deltaBytes` (negative when a partial file is dropped). */
  onBytes?: (deltaBytes: number) => void;
  onRetry?: (info: { failures: number; delayMs: number; reason: string }) => void;
}

export interface DownloadFileResult {
  bytes: number;
  sha256: string;
  /** Bytes that were already in the `.part` file when this call started. */
  resumedFromBytes: number;
}

/** Thrown when the bytes are there but wrong (length); never retried, unlike a cut transfer. */
class SizeMismatchError extends EarshotError {}

async function fileSizeBytes(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: HASH_READ_BYTES, signal }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Start offset of a `Content-Range: bytes START-END/TOTAL` header. */
export function contentRangeStart(header: string | null): number | undefined {
  const match = header === null ? null : /^bytes\s+(\d+)-/i.exec(header.trim());
  return match === null ? undefined : Number(match[1]);
}

/** Appends one response body to the part file; returns the new size on disk. Throws on any cut. */
async function transferOnce(
  o: DownloadFileOptions,
  partPath: string,
  haveBytes: number,
  account: (size: number) => void,
): Promise<number> {
  const headers = { ...o.headers, ...(haveBytes > 0 ? { range: `bytes=${haveBytes}-` } : {}) };
  const { response, abort } = await fetchWithConnectTimeout(o.fetchImpl, o.url, {
    headers,
    signal: o.signal,
    connectTimeoutMs: o.connectTimeoutMs,
  });
  let startBytes = haveBytes;
  if (response.status === 206) {
    const start = contentRangeStart(response.headers.get('content-range'));
    if (start !== undefined && start !== haveBytes) {
      // A range we did not ask for: drop what we have and retry from zero rather than splice blindly.
      await response.body?.cancel();
      await truncate(partPath, 0);
      account(0);
      throw new Error(`the server resumed at byte ${start} instead of ${haveBytes}`);
    }
  } else if (response.status === 200) {
    // 200 to a Range request means the server ignored it and sends the whole file: start over.
    startBytes = 0;
  } else {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429 || response.status === 416;
    if (response.status === 416) {
      await truncate(partPath, 0);
      account(0);
    }
    const hint =
      response.status === 401 || response.status === 403
        ? ' Set HF_TOKEN to a token that can read the repository.'
        : '';
    throw new EarshotError('E_MODEL_PULL', `The hub answered HTTP ${response.status} for ${o.url}.${hint}`, {
      retryable,
    });
  }
  if (response.body === null) throw new Error('the response has no body');

  const declaredBytes = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declaredBytes) && startBytes + declaredBytes !== o.expectedBytes) {
    await response.body.cancel();
    throw new SizeMismatchError(
      'E_MODEL_PULL',
      `${o.displayPath}: the server sends ${startBytes + declaredBytes} bytes but the hub listing says ${o.expectedBytes}.`,
    );
  }

  if (startBytes === 0 && haveBytes > 0) account(0);
  let sizeBytes = startBytes;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => abort(new StallTimeoutError(o.stallTimeoutMs)), o.stallTimeoutMs);
  };
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      armStallTimer();
      if (sizeBytes + chunk.length > o.expectedBytes) {
        callback(
          new SizeMismatchError(
            'E_MODEL_PULL',
            `${o.displayPath}: the server sends more than the ${o.expectedBytes} bytes the hub listing says.`,
          ),
        );
        return;
      }
      sizeBytes += chunk.length;
      account(sizeBytes);
      callback(null, chunk);
    },
  });
  armStallTimer();
  // A cut body must not tear the file stream down with it: pipeline() would destroy the writer with the
  // chunks it still buffers (all of them when the cut comes before the file is even open), and the resume
  // would restart further back than needed. So the cut ends the source cleanly and is thrown once flushed.
  let cut: unknown;
  async function* untilCut(source: Readable): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) yield chunk as Buffer;
    } catch (err) {
      cut = err;
    }
  }
  try {
    const body = Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
    await pipeline(untilCut(body), counter, createWriteStream(partPath, { flags: startBytes === 0 ? 'w' : 'a' }));
  } finally {
    clearTimeout(stallTimer);
  }
  if (cut !== undefined) throw cut;
  if (sizeBytes < o.expectedBytes) throw new Error(`the transfer ended after ${sizeBytes} of ${o.expectedBytes} bytes`);
  return sizeBytes;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof SizeMismatchError) return false;
  if (err instanceof EarshotError) return err.retryable;
  return !isLocalFsError(err);
}

export async function downloadFile(o: DownloadFileOptions): Promise<DownloadFileResult> {
  const partPath = o.destPath + PART_SUFFIX;
  await mkdir(dirname(partPath), { recursive: true });
  let haveBytes = (await fileSizeBytes(partPath)) ?? 0;
  // A .part longer than the file is not a prefix of it. Without a sha256 a .part left by an earlier run
  // (maybe another revision) could be spliced with new bytes undetected; such files are small git files, so
  // they restart from zero. Cuts within this run still resume: same revision, same listing.
  if (haveBytes > o.expectedBytes || (haveBytes > 0 && o.expectedSha256 === undefined)) {
    await truncate(partPath, 0);
    haveBytes = 0;
  }
  const resumedFromBytes = haveBytes;
  // Everything reported to onBytes so far, so the caller's running total always equals the bytes on disk.
  let accountedBytes = 0;
  const account = (sizeBytes: number): void => {
    const delta = sizeBytes - accountedBytes;
    accountedBytes = sizeBytes;
    if (delta !== 0) o.onBytes?.(delta);
  };
  account(haveBytes);

  let failures = 0;
  let corruptRetriesLeft = o.corruptRetries;
  for (;;) {
    if (haveBytes < o.expectedBytes) {
      const attemptStartBytes = haveBytes;
      try {
        haveBytes = await transferOnce(o, partPath, haveBytes, account);
      } catch (err) {
        if (o.signal?.aborted)
          throw new EarshotError('E_ABORTED', `Download of ${o.displayPath} cancelled.`, { cause: err });
        if (isLocalFsError(err)) {
          throw new EarshotError('E_MODEL_PULL', `Cannot write ${partPath}: ${describeNetworkError(err)}`, {
            cause: err,
          });
        }
        if (!isRetryable(err)) {
          if (err instanceof SizeMismatchError) await rm(partPath, { force: true });
          throw err;
        }
        haveBytes = (await fileSizeBytes(partPath)) ?? 0;
        account(haveBytes);
        failures = haveBytes > attemptStartBytes ? 1 : failures + 1;
        if (failures > o.retry.maxRetries) {
          throw new EarshotError(
            'E_MODEL_PULL',
            `Downloading ${o.displayPath} failed after ${o.retry.maxRetries} retries: ${describeNetworkError(err)}. ` +
              `${haveBytes} of ${o.expectedBytes} bytes are kept in ${partPath}; run the command again to resume.`,
            { retryable: true, cause: err },
          );
        }
        const delayMs = backoffDelayMs(failures, o.retry);
        o.onRetry?.({ failures, delayMs, reason: describeNetworkError(err) });
        try {
          await waitBeforeRetry(delayMs, o.signal);
        } catch (abortErr) {
          throw new EarshotError('E_ABORTED', `Download of ${o.displayPath} cancelled.`, { cause: abortErr });
        }
        continue;
      }
    }

    const sha256 = await sha256OfFile(partPath, o.signal);
    if (o.expectedSha256 !== undefined && sha256 !== o.expectedSha256) {
      await rm(partPath, { force: true });
      haveBytes = 0;
      account(0);
      if (corruptRetriesLeft > 0) {
        corruptRetriesLeft -= 1;
        o.onRetry?.({
          failures: 0,
          delayMs: 0,
          reason: `sha256 mismatch, downloading ${o.displayPath} again from the start`,
        });
        continue;
      }
      throw new EarshotError(
        'E_MODEL_PULL',
        `${o.displayPath} is corrupted: expected sha256 ${o.expectedSha256}, got ${sha256}. ` +
          `The partial file was deleted; run the command again (if it keeps failing, the server or a proxy alters the file).`,
      );
    }
    await rename(partPath, o.destPath);
    return { bytes: haveBytes, sha256, resumedFromBytes };
  }
}
