import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError, isEarshotError } from '../../../errors.ts';
import type { ModelVariant } from '../model_location.ts';
import { type DownloadFileResult, downloadFile, sha256OfFile } from './download_file.ts';
import {
  authHeaders,
  DEFAULT_HF_ENDPOINT,
  hubEnv,
  normalizeEndpoint,
  resolveUrl,
  type HubFile,
  type HubSettings,
} from './hub_api.ts';
import { offlineMessage } from './manual_instructions.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  describeNetworkError,
  isUnreachableError,
  type FetchImpl,
} from './net.ts';
import type { PullProgressEvent } from './progress.ts';
import { planPull } from './pull_plan.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
import { DEFAULT_REVISION, MODEL_REPO_ID } from './variants.ts';

// `earshot model pull` without the CLI: find the variant folder on the hub and the files of it the engine uses
// (pull_plan.ts), skip what is already complete, download the rest one file at a time (resumable, verified,
// renamed into place when complete).

/** Wrong sha256 -> the file is downloaded once more from zero before failing (see DownloadFileOptions). */
export const DEFAULT_CORRUPT_RETRIES = 1;

export interface PullModelOptions {
  variant: ModelVariant;
  /** Target directory; the variant folder's contents land directly in it (sub-folders kept). */
  dir: string;
  /** Hub base url; default HF_ENDPOINT from `env`, else https://huggingface.co. */
  endpoint?: string;
  /** Bearer token; default HF_TOKEN from `env`. */
  token?: string;
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (event: PullProgressEvent) => void;
  fetchImpl?: FetchImpl;
  retry?: Partial<RetryPolicy>;
  /** Wait for response headers, in ms (default DEFAULT_CONNECT_TIMEOUT_MS = 10 s). */
  connectTimeoutMs?: number;
  /** Silence inside a body before it counts as cut, in ms (default DEFAULT_STALL_TIMEOUT_MS = 30 s). */
  stallTimeoutMs?: number;
  corruptRetries?: number;
  /** Environment for HF_ENDPOINT / HF_TOKEN; default process.env. */
  env?: Record<string, string | undefined>;
  /** Hub repository; only tests and forks change it. */
  repo?: string;
  /** Also fetch the vision graph, its processor config and adapter (unused by the speech engine). */
  withVision?: boolean;
}

export interface PulledFile {
  /** Path relative to the target directory. */
  path: string;
  bytes: number;
  /** sha256 computed (downloaded files) or checked (skipped files with a hub sha256). */
  sha256?: string;
  /** Already complete on disk; nothing was downloaded. */
  skipped: boolean;
}

export interface PullModelResult {
  dir: string;
  /** The hub folder the files came from, e.g. `gpu/gpu-int4-rtn-block-32`. */
  folder: string;
  revision: string;
  files: PulledFile[];
  /** Files of the hub folder that were not fetched (unused by the engine). */
  leftOut: string[];
}

interface PlannedFile {
  hub: HubFile;
  relPath: string;
  destPath: string;
}

async function isComplete(file: PlannedFile, signal?: AbortSignal): Promise<{ complete: boolean; sha256?: string }> {
  try {
    const info = await stat(file.destPath);
    if (!info.isFile() || info.size !== file.hub.sizeBytes) return { complete: false };
  } catch {
    return { complete: false };
  }
  if (file.hub.sha256 === undefined) return { complete: true };
  const sha256 = await sha256OfFile(file.destPath, signal);
  return { complete: sha256 === file.hub.sha256, sha256 };
}

/** One pull's settings, resolved from the options over HF_ENDPOINT / HF_TOKEN over the defaults. */
interface PullContext {
  endpoint: string;
  token: string | undefined;
  revision: string;
  repo: string;
  hub: HubSettings;
  retry: RetryPolicy;
  /** What offlineMessage needs to tell the user how to fetch the files by hand. */
  manual: { endpoint: string; repo: string; revision: string; variant: ModelVariant; dir: string };
}

function resolvePullContext(opts: PullModelOptions): PullContext {
  const fromEnv = hubEnv(opts.env ?? process.env);
  const endpoint = normalizeEndpoint(opts.endpoint ?? fromEnv.endpoint ?? DEFAULT_HF_ENDPOINT);
  const token = opts.token ?? fromEnv.token;
  const revision = opts.revision ?? DEFAULT_REVISION;
  const repo = opts.repo ?? MODEL_REPO_ID;
  const hub: HubSettings = {
    endpoint,
    token,
    fetchImpl: opts.fetchImpl ?? fetch,
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  const manual = { endpoint, repo, revision, variant: opts.variant, dir: opts.dir };
  return { endpoint, token, revision, repo, hub, retry, manual };
}

/**
 * The error a failed pull stage throws: E_ABORTED once the signal fired, a retryable E_MODEL_PULL with the
 * manual download instructions when the hub cannot be reached, an EarshotError as it is, else E_MODEL_PULL.
 */
function pullError(
  ctx: PullContext,
  signal: AbortSignal | undefined,
  err: unknown,
  stage: string,
  folder?: string,
  files?: string[],
): EarshotError {
  if (signal?.aborted) return new EarshotError('E_ABORTED', 'Model download cancelled.', { cause: err });
  if (isUnreachableError(err) || (isEarshotError(err) && isUnreachableError(err.cause))) {
    const cause = isEarshotError(err) && err.cause !== undefined ? err.cause : err;
    return new EarshotError(
      'E_MODEL_PULL',
      offlineMessage({ ...ctx.manual, folder, files, reason: describeNetworkError(cause) }),
      { retryable: true, cause: err },
    );
  }
  if (isEarshotError(err)) return err;
  return new EarshotError('E_MODEL_PULL', `${stage} failed: ${describeNetworkError(err)}`, { cause: err });
}

/**
 * Sorts the planned files into those already complete on disk (as skipped results, keyed by relPath) and
 * those still to fetch, checking them one after another in plan order. Errors propagate unchanged.
 */
async function findCompleteFiles(
  planned: readonly PlannedFile[],
  signal: AbortSignal | undefined,
): Promise<{ results: Map<string, PulledFile>; toFetch: PlannedFile[] }> {
  const results = new Map<string, PulledFile>();
  const toFetch: PlannedFile[] = [];
  for (const file of planned) {
    const check = await isComplete(file, signal);
    if (check.complete)
      results.set(file.relPath, {
        path: file.relPath,
        bytes: file.hub.sizeBytes,
        sha256: check.sha256,
        skipped: true,
      });
    else toFetch.push(file);
  }
  return { results, toFetch };
}

/** Downloads one planned file (resumable, retried, verified); onBytes gets every delta, resumed bytes first. */
function downloadPlannedFile(
  ctx: PullContext,
  opts: PullModelOptions,
  file: PlannedFile,
  onBytes: (deltaBytes: number) => void,
): Promise<DownloadFileResult> {
  const { signal, onProgress } = opts;
  return downloadFile({
    url: resolveUrl(ctx.endpoint, ctx.repo, ctx.revision, file.hub.path),
    destPath: file.destPath,
    displayPath: file.relPath,
    expectedBytes: file.hub.sizeBytes,
    expectedSha256: file.hub.sha256,
    headers: authHeaders(ctx.token),
    fetchImpl: ctx.hub.fetchImpl,
    signal,
    retry: ctx.retry,
    connectTimeoutMs: ctx.hub.connectTimeoutMs,
    stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    corruptRetries: opts.corruptRetries ?? DEFAULT_CORRUPT_RETRIES,
    onBytes,
    onRetry: (info) => onProgress?.({ type: 'retry', path: file.relPath, ...info }),
  });
}

export async function pullModel(opts: PullModelOptions): Promise<PullModelResult> {
  const ctx = resolvePullContext(opts);
  const { revision, repo, hub, retry } = ctx;
  const { signal, onProgress } = opts;
  const fail = (err: unknown, stage: string, folder?: string, files?: string[]): EarshotError =>
    pullError(ctx, signal, err, stage, folder, files);

  let folder: string | undefined;
  let planned: PlannedFile[];
  let leftOut: string[];
  try {
    const plan = await planPull(hub, {
      repo,
      revision,
      variant: opts.variant,
      withVision: opts.withVision ?? false,
      retry,
      signal,
    });
    folder = plan.folder;
    leftOut = plan.leftOut;
    planned = plan.files.map((f) => ({ ...f, destPath: join(opts.dir, ...f.relPath.split('/')) }));
  } catch (err) {
    throw fail(err, 'Listing the model files', folder);
  }

  let results: Map<string, PulledFile>;
  let toFetch: PlannedFile[];
  try {
    ({ results, toFetch } = await findCompleteFiles(planned, signal));
  } catch (err) {
    throw fail(err, 'Checking the files already present', folder);
  }

  let doneBytes = 0;
  const totalBytes = toFetch.reduce((sum, f) => sum + f.hub.sizeBytes, 0);
  // Bytes already in .part files count as done; downloadFile reports them first through onBytes.
  const allBytes = planned.reduce((sum, f) => sum + f.hub.sizeBytes, 0);
  onProgress?.({
    type: 'plan',
    dir: opts.dir,
    folder,
    fileCount: planned.length,
    skippedCount: results.size,
    leftOutCount: leftOut.length,
    allBytes,
    totalBytes,
    doneBytes,
  });
  for (const file of toFetch) {
    onProgress?.({ type: 'file-start', path: file.relPath, sizeBytes: file.hub.sizeBytes });
    try {
      const got = await downloadPlannedFile(ctx, opts, file, (deltaBytes) => {
        doneBytes += deltaBytes;
        onProgress?.({ type: 'bytes', path: file.relPath, deltaBytes, doneBytes });
      });
      results.set(file.relPath, { path: file.relPath, bytes: got.bytes, sha256: got.sha256, skipped: false });
      onProgress?.({ type: 'file-done', path: file.relPath });
    } catch (err) {
      const missing = planned.filter((f) => !results.has(f.relPath)).map((f) => f.relPath);
      throw fail(err, `Downloading ${file.relPath}`, folder, missing);
    }
  }
  onProgress?.({ type: 'done', doneBytes });
  return { dir: opts.dir, folder, revision, files: planned.map((f) => results.get(f.relPath) as PulledFile), leftOut };
}
