import { stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { EarshotError, isEarshotError } from '../../../errors.ts';
import type { ModelVariant } from '../../model_location.ts';
import { downloadFile, sha256OfFile } from './download_file.ts';
import { authHeaders, DEFAULT_HF_ENDPOINT, hubEnv, listTree, normalizeEndpoint, resolveUrl, type HubFile, type HubSettings } from './hub_api.ts';
import { offlineMessage } from './manual_instructions.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STALL_TIMEOUT_MS, describeNetworkError, isUnreachableError, type FetchImpl } from './net.ts';
import type { PullProgressEvent } from './progress.ts';
import { backoffDelayMs, DEFAULT_RETRY_POLICY, waitBeforeRetry, type RetryPolicy } from './retry.ts';
import { chooseCpuFolder, CPU_PARENT_FOLDER, DEFAULT_REVISION, GPU_VARIANT_FOLDER, MODEL_REPO_ID } from './variants.ts';

// `earshot model pull` without the CLI: list the variant folder on the hub, skip what is already complete,
// download the rest one file at a time (resumable, verified, renamed into place when complete).

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
}

interface PlannedFile {
  hub: HubFile;
  relPath: string;
  destPath: string;
}

/** Refuses listing paths that would escape the target directory (a hostile or broken mirror). */
function safeRelativePath(repoPath: string, folder: string): string {
  const rel = repoPath.slice(folder.length + 1);
  const segments = rel.split('/');
  if (!repoPath.startsWith(`${folder}/`) || rel === '' || isAbsolute(rel) || rel.includes('\\') || rel.includes('\0') ||
      segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new EarshotError('E_MODEL_PULL', `The hub listing contains an unexpected path: ${JSON.stringify(repoPath)}.`);
  }
  return rel;
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

/** Retries a listing call on transient hub answers (5xx, 429); unreachable hosts still fail at once. */
async function withRetries<T>(call: () => Promise<T>, retry: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await call();
    } catch (err) {
      if (!isEarshotError(err) || !err.retryable || failures > retry.maxRetries || (signal?.aborted ?? false)) throw err;
      await waitBeforeRetry(backoffDelayMs(failures, retry), signal);
    }
  }
}

async function findVariantFolder(
  hub: HubSettings, variant: ModelVariant, repo: string, revision: string, retry: RetryPolicy, signal?: AbortSignal,
): Promise<string> {
  if (variant === 'gpu') return GPU_VARIANT_FOLDER;
  const listing = await withRetries(() => listTree(hub, { repo, revision, folder: CPU_PARENT_FOLDER, recursive: false, signal }), retry, signal);
  const choice = chooseCpuFolder(listing.directories);
  if (!choice.ok) throw new EarshotError('E_MODEL_PULL', `Cannot choose the CPU variant folder: ${choice.reason}.`);
  return choice.folder;
}

export async function pullModel(opts: PullModelOptions): Promise<PullModelResult> {
  const fromEnv = hubEnv(opts.env ?? process.env);
  const endpoint = normalizeEndpoint(opts.endpoint ?? fromEnv.endpoint ?? DEFAULT_HF_ENDPOINT);
  const token = opts.token ?? fromEnv.token;
  const revision = opts.revision ?? DEFAULT_REVISION;
  const repo = opts.repo ?? MODEL_REPO_ID;
  const { signal, onProgress } = opts;
  const hub: HubSettings = {
    endpoint, token, fetchImpl: opts.fetchImpl ?? fetch, connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
  const manual = { endpoint, repo, revision, variant: opts.variant, dir: opts.dir };

  const fail = (err: unknown, stage: string, folder?: string, files?: string[]): EarshotError => {
    if (signal?.aborted) return new EarshotError('E_ABORTED', 'Model download cancelled.', { cause: err });
    if (isUnreachableError(err) || (isEarshotError(err) && isUnreachableError(err.cause))) {
      const cause = isEarshotError(err) && err.cause !== undefined ? err.cause : err;
      return new EarshotError('E_MODEL_PULL', offlineMessage({ ...manual, folder, files, reason: describeNetworkError(cause) }),
        { retryable: true, cause: err });
    }
    if (isEarshotError(err)) return err;
    return new EarshotError('E_MODEL_PULL', `${stage} failed: ${describeNetworkError(err)}`, { cause: err });
  };

  let folder: string | undefined;
  let planned: PlannedFile[];
  try {
    folder = await findVariantFolder(hub, opts.variant, repo, revision, retry, signal);
    const variantFolder = folder;
    const tree = await withRetries(() => listTree(hub, { repo, revision, folder: variantFolder, recursive: true, signal }), retry, signal);
    planned = tree.files
      .map((hubFile) => {
        const relPath = safeRelativePath(hubFile.path, variantFolder);
        return { hub: hubFile, relPath, destPath: join(opts.dir, ...relPath.split('/')) };
      })
      .sort((a, b) => a.relPath.localeCompare(b.relPath));
  } catch (err) {
    throw fail(err, 'Listing the model files', folder);
  }
  if (planned.length === 0) {
    throw new EarshotError('E_MODEL_PULL', `The hub folder ${folder} of ${repo} at revision ${revision} has no files.`);
  }

  const results = new Map<string, PulledFile>();
  const toFetch: PlannedFile[] = [];
  try {
    for (const file of planned) {
      const check = await isComplete(file, signal);
      if (check.complete) results.set(file.relPath, { path: file.relPath, bytes: file.hub.sizeBytes, sha256: check.sha256, skipped: true });
      else toFetch.push(file);
    }
  } catch (err) {
    throw fail(err, 'Checking the files already present', folder);
  }

  let doneBytes = 0;
  const totalBytes = toFetch.reduce((sum, f) => sum + f.hub.sizeBytes, 0);
  // Bytes already in .part files count as done; downloadFile reports them first through onBytes.
  onProgress?.({ type: 'plan', dir: opts.dir, folder, fileCount: planned.length, skippedCount: results.size, totalBytes, doneBytes });
  for (const file of toFetch) {
    onProgress?.({ type: 'file-start', path: file.relPath, sizeBytes: file.hub.sizeBytes });
    try {
      const got = await downloadFile({
        url: resolveUrl(endpoint, repo, revision, file.hub.path),
        destPath: file.destPath,
        displayPath: file.relPath,
        expectedBytes: file.hub.sizeBytes,
        expectedSha256: file.hub.sha256,
        headers: authHeaders(token),
        fetchImpl: hub.fetchImpl,
        signal,
        retry,
        connectTimeoutMs: hub.connectTimeoutMs,
        stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
        corruptRetries: opts.corruptRetries ?? DEFAULT_CORRUPT_RETRIES,
        onBytes: (deltaBytes) => {
          doneBytes += deltaBytes;
          onProgress?.({ type: 'bytes', path: file.relPath, deltaBytes, doneBytes });
        },
        onRetry: (info) => onProgress?.({ type: 'retry', path: file.relPath, ...info }),
      });
      results.set(file.relPath, { path: file.relPath, bytes: got.bytes, sha256: got.sha256, skipped: false });
      onProgress?.({ type: 'file-done', path: file.relPath });
    } catch (err) {
      const missing = planned.filter((f) => !results.has(f.relPath)).map((f) => f.relPath);
      throw fail(err, `Downloading ${file.relPath}`, folder, missing);
    }
  }
  onProgress?.({ type: 'done', doneBytes });
  return { dir: opts.dir, folder, revision, files: planned.map((f) => results.get(f.relPath) as PulledFile) };
}
