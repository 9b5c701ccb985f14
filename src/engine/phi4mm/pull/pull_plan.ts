import { isAbsolute } from 'node:path';
import { EarshotError, isEarshotError } from '../../../errors.ts';
import type { ModelVariant } from '../model_location.ts';
import { genaiConfigFiles, MAX_GENAI_CONFIG_BYTES, selectEngineFiles } from './engine_files.ts';
import { fetchSmallFile, listTree, type HubFile, type HubSettings } from './hub_api.ts';
import { backoffDelayMs, waitBeforeRetry, type RetryPolicy } from './retry.ts';
import { chooseVariantFolder, VARIANT_MARKER_FILE, variantFoldersOf } from './variants.ts';

// Planning a pull: one recursive listing of the repository, the variant folder chosen among the folders
// that hold a genai_config.json, that config read to learn which files the engine uses, and only those kept.

export interface PlanQuery {
  repo: string;
  revision: string;
  variant: ModelVariant;
  withVision: boolean;
  retry: RetryPolicy;
  signal?: AbortSignal;
}

export interface PullPlan {
  /** The hub folder, e.g. `cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4`. */
  folder: string;
  /** The files to fetch, `relPath` relative to the folder; genai_config.json last (see orderForDownload). */
  files: { hub: HubFile; relPath: string }[];
  /** Listed files of the folder that are not fetched. */
  leftOut: string[];
}

/** Refuses listing paths that would escape the target directory (a hostile or broken mirror). */
export function safeRelativePath(repoPath: string, folder: string): string {
  const prefix = folder === '' ? '' : `${folder}/`;
  const rel = repoPath.slice(prefix.length);
  const segments = rel.split('/');
  if (
    !repoPath.startsWith(prefix) ||
    rel === '' ||
    isAbsolute(rel) ||
    rel.includes('\\') ||
    rel.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new EarshotError('E_MODEL_PULL', `The hub listing contains an unexpected path: ${JSON.stringify(repoPath)}.`);
  }
  return rel;
}

/** Retries a hub call on transient answers (5xx, 429); unreachable hosts still fail at once. */
export async function withRetries<T>(call: () => Promise<T>, retry: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await call();
    } catch (err) {
      if (!isEarshotError(err) || !err.retryable || failures > retry.maxRetries || (signal?.aborted ?? false))
        throw err;
      await waitBeforeRetry(backoffDelayMs(failures, retry), signal);
    }
  }
}

/**
 * genai_config.json goes last: a directory holding it is then complete, so an interrupted pull never leaves
 * a directory that looks like a model to the server. The rest, largest first, so the ETA settles early.
 */
function orderForDownload(files: PullPlan['files']): PullPlan['files'] {
  const rank = (f: PullPlan['files'][number]) => (f.relPath === VARIANT_MARKER_FILE ? 1 : 0);
  return [...files].sort(
    (a, b) => rank(a) - rank(b) || b.hub.sizeBytes - a.hub.sizeBytes || a.relPath.localeCompare(b.relPath),
  );
}

export async function planPull(hub: HubSettings, q: PlanQuery): Promise<PullPlan> {
  const tree = await withRetries(
    () => listTree(hub, { repo: q.repo, revision: q.revision, folder: '', recursive: true, signal: q.signal }),
    q.retry,
    q.signal,
  );
  const choice = chooseVariantFolder(q.variant, variantFoldersOf(tree.files.map((f) => f.path)));
  if (!choice.ok) {
    throw new EarshotError(
      'E_MODEL_PULL',
      `Cannot find the ${q.variant} export in ${q.repo} at revision ${q.revision}: ${choice.reason}.`,
    );
  }
  const folder = choice.folder;
  const prefix = folder === '' ? '' : `${folder}/`;
  const inFolder = tree.files
    .filter((f) => f.path.startsWith(prefix))
    .map((hubFile) => ({ hub: hubFile, relPath: safeRelativePath(hubFile.path, folder) }));
  const configFile = inFolder.find((f) => f.relPath === VARIANT_MARKER_FILE) as PullPlan['files'][number];
  if (configFile.hub.sizeBytes > MAX_GENAI_CONFIG_BYTES) {
    throw new EarshotError(
      'E_MODEL_PULL',
      `${configFile.hub.path} is ${configFile.hub.sizeBytes} bytes, more than the ${MAX_GENAI_CONFIG_BYTES} expected of it.`,
    );
  }
  const configText = await withRetries(
    () =>
      fetchSmallFile(hub, {
        repo: q.repo,
        revision: q.revision,
        path: configFile.hub.path,
        maxBytes: MAX_GENAI_CONFIG_BYTES,
        signal: q.signal,
      }),
    q.retry,
    q.signal,
  );
  const parsed = genaiConfigFiles(configText);
  if (!parsed.ok) throw new EarshotError('E_MODEL_PULL', `${configFile.hub.path} cannot be used: ${parsed.reason}.`);
  const selection = selectEngineFiles(
    parsed.names,
    inFolder.map((f) => f.relPath),
    q.withVision,
  );
  if (selection.visionAbsent) {
    throw new EarshotError(
      'E_MODEL_PULL',
      `--with-vision: ${configFile.hub.path} has no vision section, so ${folder} has no vision graph.`,
    );
  }
  if (selection.missing.length > 0) {
    throw new EarshotError(
      'E_MODEL_PULL',
      `The hub folder ${folder} lacks files the engine needs: ${selection.missing.join(', ')} (named by its genai_config.json or required by Earshot).`,
    );
  }
  const selected = new Set(selection.selected);
  return {
    folder,
    files: orderForDownload(inFolder.filter((f) => selected.has(f.relPath))),
    leftOut: selection.leftOut,
  };
}
