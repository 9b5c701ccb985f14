import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';

// Where a rewritten graph is cached, and whether a cached one is still valid. The cache sits beside the
// model (so the rewritten graph finds the original external weight file by its relative name and loads
// by path); when the model directory is not writable it goes to the user's cache directory
// ($EARSHOT_GRAPH_CACHE, else ~/.cache/earshot/graphs/<hash of the model dir>) and is loaded from
// memory with the model directory as the external-data folder. A cache entry is keyed by the size and
// modification time of every source file and by the rewrite's options: change either and it is redone.

/** Bump when the rewrite's output changes for the same inputs. */
export const GRAPH_REWRITE_VERSION = 2;
const ENTRY_MARK = '.earshot-';

export type CacheLocation = 'model_dir' | 'user_cache' | 'none';

export interface SourceStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

export function stampOf(path: string): SourceStamp | undefined {
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  return { path: resolve(path), size: st.size, mtimeMs: st.mtimeMs };
}

export interface CacheKey {
  version: number;
  sources: (SourceStamp | undefined)[];
  options: object;
}

export interface CacheEntry {
  /** The cached graph file. */
  graphPath: string;
  metaPath: string;
  location: CacheLocation;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function userCacheDir(modelDir: string): string {
  const root = process.env.EARSHOT_GRAPH_CACHE
    ? resolve(process.env.EARSHOT_GRAPH_CACHE)
    : join(homedir(), '.cache', 'earshot', 'graphs');
  return join(root, createHash('sha256').update(resolve(modelDir)).digest('hex').slice(0, 16));
}

function keyHash(key: CacheKey): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

/** The entry for `graphFile` under `key`: beside the model when possible, else in the user cache. */
export function cacheEntry(modelDir: string, graphFile: string, key: CacheKey, cacheDir?: string): CacheEntry {
  const name = `${basename(graphFile)}${ENTRY_MARK}${keyHash(key)}`;
  const inModelDir = cacheDir === undefined && writable(modelDir);
  const dir = cacheDir ?? (inModelDir ? modelDir : userCacheDir(modelDir));
  return {
    graphPath: join(dir, `${name}.onnx`),
    metaPath: join(dir, `${name}.json`),
    location: inModelDir || resolve(dir) === resolve(modelDir) ? 'model_dir' : 'user_cache',
  };
}

/** The cached metadata when the entry exists and was written for exactly `key`. */
export function readCached<T>(entry: CacheEntry, key: CacheKey): T | undefined {
  try {
    const meta = JSON.parse(readFileSync(entry.metaPath, 'utf8')) as { key: CacheKey; data: T };
    if (JSON.stringify(meta.key) !== JSON.stringify(key) || !existsSync(entry.graphPath)) return undefined;
    return meta.data;
  } catch {
    return undefined;
  }
}

function atomicWrite(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Writes the graph, then its metadata (the metadata is the commit mark). Entries of the same graph whose
 * source files have since changed are deleted. Returns the reason when nothing could be written.
 */
export function writeCached(entry: CacheEntry, key: CacheKey, graph: Uint8Array, data: object): string | undefined {
  try {
    mkdirSync(resolve(entry.graphPath, '..'), { recursive: true });
    atomicWrite(entry.graphPath, graph);
    atomicWrite(entry.metaPath, JSON.stringify({ key, data }));
    removeStaleEntries(entry, key);
    return undefined;
  } catch (err) {
    rmSync(entry.graphPath, { force: true });
    return (err as Error).message;
  }
}

/** Deletes sibling entries of the same graph built from source files that no longer match. */
function removeStaleEntries(entry: CacheEntry, key: CacheKey): void {
  const dir = resolve(entry.graphPath, '..');
  const prefix = basename(entry.graphPath).slice(0, basename(entry.graphPath).indexOf(ENTRY_MARK) + ENTRY_MARK.length);
  const sources = JSON.stringify(key.sources);
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(prefix) || !file.endsWith('.json') || join(dir, file) === entry.metaPath) continue;
    let stale = true;
    try {
      const meta = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { key: CacheKey };
      stale = meta.key.version !== key.version || JSON.stringify(meta.key.sources) !== sources;
    } catch {
      // unreadable metadata: stale
    }
    if (stale) {
      rmSync(join(dir, file), { force: true });
      rmSync(join(dir, file.replace(/\.json$/, '.onnx')), { force: true });
    }
  }
}
