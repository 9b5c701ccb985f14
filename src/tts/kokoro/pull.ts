import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError, isEarshotError } from '../../errors.ts';
import { downloadFile, sha256OfFile } from '../../engine/phi4mm/pull/download_file.ts';
import {
  authHeaders,
  DEFAULT_HF_ENDPOINT,
  hubEnv,
  listTree,
  normalizeEndpoint,
  resolveUrl,
  type HubFile,
  type HubSettings,
} from '../../engine/phi4mm/pull/hub_api.ts';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STALL_TIMEOUT_MS,
  describeNetworkError,
  isUnreachableError,
  type FetchImpl,
} from '../../engine/phi4mm/pull/net.ts';
import type { PullProgressEvent } from '../../engine/phi4mm/pull/progress.ts';
import { safeRelativePath, withRetries } from '../../engine/phi4mm/pull/pull_plan.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../engine/phi4mm/pull/retry.ts';
import { KOKORO_REPO_ID } from './location.ts';
import { KOKORO_PRECISIONS, TOKENIZER_FILE, type KokoroPrecision } from './model_folder.ts';

// `earshot model pull kokoro` and the first-use fetch: the files of onnx-community/Kokoro-82M-v1.0-ONNX that
// Earshot runs (the chosen precision variants, every voice, tokenizer.json), with the Phi-4 pull's
// machinery: hub listing, resumable downloads, sha256 checks, retries, progress events. tokenizer.json is
// fetched last, so a folder that has it is complete.

export interface PullKokoroOptions {
  dir: string;
  precisions: readonly KokoroPrecision[];
  endpoint?: string;
  token?: string;
  revision?: string;
  repo?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onProgress?: (event: PullProgressEvent) => void;
  fetchImpl?: FetchImpl;
  retry?: Partial<RetryPolicy>;
  connectTimeoutMs?: number;
  stallTimeoutMs?: number;
}

export interface PullKokoroResult {
  dir: string;
  files: { path: string; bytes: number; skipped: boolean }[];
}

/** Files of the repository a Kokoro folder needs, tokenizer.json last; throws when the hub lacks one. */
export function selectKokoroFiles(files: HubFile[], precisions: readonly KokoroPrecision[]): HubFile[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const wanted = precisions.map((p) => `onnx/${KOKORO_PRECISIONS[p]}`);
  const missing = [...wanted, TOKENIZER_FILE].filter((p) => !byPath.has(p));
  const voices = files.filter((f) => /^voices\/[^/]+\.bin$/.test(f.path));
  if (voices.length === 0) missing.push('voices/*.bin');
  if (missing.length > 0)
    throw new EarshotError(
      'E_MODEL_PULL',
      `The hub repository lacks Kokoro files Earshot needs: ${missing.join(', ')}.`,
    );
  const config = byPath.get('config.json');
  return [
    ...wanted.map((p) => byPath.get(p) as HubFile),
    ...voices,
    ...(config === undefined ? [] : [config]),
    byPath.get(TOKENIZER_FILE) as HubFile,
  ];
}

async function alreadyComplete(path: string, file: HubFile, signal?: AbortSignal): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size !== file.sizeBytes) return false;
  } catch {
    return false;
  }
  return file.sha256 === undefined || (await sha256OfFile(path, signal)) === file.sha256;
}

export async function pullKokoro(o: PullKokoroOptions): Promise<PullKokoroResult> {
  const fromEnv = hubEnv(o.env ?? process.env);
  const endpoint = normalizeEndpoint(o.endpoint ?? fromEnv.endpoint ?? DEFAULT_HF_ENDPOINT);
  const token = o.token ?? fromEnv.token;
  const revision = o.revision ?? 'main';
  const repo = o.repo ?? KOKORO_REPO_ID;
  const hub: HubSettings = {
    endpoint,
    token,
    fetchImpl: o.fetchImpl ?? fetch,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...o.retry };
  const fail = (err: unknown, stage: string): EarshotError => {
    if (o.signal?.aborted) return new EarshotError('E_ABORTED', 'Kokoro download cancelled.', { cause: err });
    if (isUnreachableError(err) || (isEarshotError(err) && isUnreachableError(err.cause))) {
      return new EarshotError(
        'E_MODEL_PULL',
        `${stage}: ${endpoint} cannot be reached (${describeNetworkError(isEarshotError(err) && err.cause !== undefined ? err.cause : err)}). ` +
          `Download ${repo} (onnx/, voices/, tokenizer.json) by hand into ${o.dir}, or set HF_ENDPOINT to a mirror.`,
        { retryable: true, cause: err },
      );
    }
    if (isEarshotError(err)) return err;
    return new EarshotError('E_MODEL_PULL', `${stage} failed: ${describeNetworkError(err)}`, { cause: err });
  };

  let planned: HubFile[];
  try {
    const tree = await withRetries(
      () => listTree(hub, { repo, revision, folder: '', recursive: true, signal: o.signal }),
      retry,
      o.signal,
    );
    planned = selectKokoroFiles(tree.files, o.precisions);
  } catch (err) {
    throw fail(err, 'Listing the Kokoro files');
  }
  const results: PullKokoroResult['files'] = [];
  const toFetch: HubFile[] = [];
  for (const file of planned) {
    const path = join(o.dir, ...safeRelativePath(file.path, '').split('/'));
    if (await alreadyComplete(path, file, o.signal))
      results.push({ path: file.path, bytes: file.sizeBytes, skipped: true });
    else toFetch.push(file);
  }
  const allBytes = planned.reduce((sum, f) => sum + f.sizeBytes, 0);
  let doneBytes = 0;
  o.onProgress?.({
    type: 'plan',
    dir: o.dir,
    folder: repo,
    fileCount: planned.length,
    skippedCount: results.length,
    leftOutCount: 0,
    allBytes,
    totalBytes: toFetch.reduce((sum, f) => sum + f.sizeBytes, 0),
    doneBytes,
  });
  for (const file of toFetch) {
    o.onProgress?.({ type: 'file-start', path: file.path, sizeBytes: file.sizeBytes });
    try {
      const got = await downloadFile({
        url: resolveUrl(endpoint, repo, revision, file.path),
        destPath: join(o.dir, ...file.path.split('/')),
        displayPath: file.path,
        expectedBytes: file.sizeBytes,
        expectedSha256: file.sha256,
        headers: authHeaders(token),
        fetchImpl: hub.fetchImpl,
        signal: o.signal,
        retry,
        connectTimeoutMs: hub.connectTimeoutMs,
        stallTimeoutMs: o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
        corruptRetries: 1,
        onBytes: (deltaBytes) => {
          doneBytes += deltaBytes;
          o.onProgress?.({ type: 'bytes', path: file.path, deltaBytes, doneBytes });
        },
        onRetry: (info) => o.onProgress?.({ type: 'retry', path: file.path, ...info }),
      });
      results.push({ path: file.path, bytes: got.bytes, skipped: false });
      o.onProgress?.({ type: 'file-done', path: file.path });
    } catch (err) {
      throw fail(err, `Downloading ${file.path}`);
    }
  }
  o.onProgress?.({ type: 'done', doneBytes });
  return { dir: o.dir, files: results };
}
