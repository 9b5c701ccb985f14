import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import onnxProto from 'onnx-proto';
import { decodeAdapter } from './adapter_format.ts';
import type { AdapterFile } from './adapter_types.ts';
import {
  cacheEntry,
  GRAPH_REWRITE_VERSION,
  readCached,
  stampOf,
  writeCached,
  type CacheKey,
  type CacheLocation,
} from './graph_cache.ts';
import { sliceLogitsToLastPosition, type LastPositionResult } from './graph_rewrite.ts';
import type { ModelProto } from './lora_branches.ts';
import { rewriteLoraBranches, type LoraRewriteReport } from './lora_rewrite.ts';
import type { ModelFiles } from './model_dir.ts';

// The decoder graph as Earshot runs it, prepared once per model directory and adapter: the LoRA
// rewrite (lora_rewrite.ts) and the last-position logits slice (graph_rewrite.ts), cached beside the
// model (graph_cache.ts) so a second start reuses it. Nothing here throws because of the adapter: an
// unreadable or misfitting one is reported as refused and the base model is prepared.

export interface PrepareTextGraphOptions {
  /** Apply the variant's speech adapter when it fits (engine.apply_speech_adapter). */
  applySpeechAdapter: boolean;
  /** Also slice the lm_head to the last position. */
  lastPositionLogits: boolean;
  /** Name of the logits output (from genai_config.json). */
  logitsName: string;
  /** Cache directory override (tests); default beside the model, else the user cache. */
  cacheDir?: string;
  /** Write the rewritten graph to the cache (default true; `model check` only reads). */
  writeCache?: boolean;
}

export interface PreparedTextGraph {
  /** The cached graph to load by path, when there is one. */
  path?: string;
  /** The rewritten graph's bytes when it is not cached beside the model (load from memory). */
  bytes?: Uint8Array;
  lora: LoraRewriteReport;
  lastPositionLogits: LastPositionResult;
  cache: { location: CacheLocation; reused: boolean; path?: string; problem?: string };
  /** Bytes of every initializer of the prepared graph (weights resident once loaded). */
  weightBytes: number;
}

interface CachedData {
  lora: LoraRewriteReport;
  lastPositionLogits: LastPositionResult;
  weightBytes: number;
}

function readAdapter(path: string): { adapter?: AdapterFile; problem?: string } {
  try {
    return { adapter: decodeAdapter(readFileSync(path)) };
  } catch (err) {
    return { problem: `${basename(path)} could not be read: ${(err as Error).message}` };
  }
}

/** Bytes of a tensor: inline data, or the external data's declared length. */
function tensorBytes(t: NonNullable<NonNullable<ModelProto['graph']>['initializer']>[number]): number {
  if (t.dataLocation === onnxProto.onnx.TensorProto.DataLocation.EXTERNAL) {
    return Number((t.externalData ?? []).find((e) => e.key === 'length')?.value ?? 0);
  }
  const typed = (t.floatData?.length ?? 0) * 4 + (t.int64Data?.length ?? 0) * 8 + (t.int32Data?.length ?? 0) * 4;
  return (t.rawData?.length ?? 0) + typed;
}

export function initializerBytes(model: ModelProto): number {
  return (model.graph?.initializer ?? []).reduce((n, t) => n + tensorBytes(t), 0);
}

/** Rewrites the text graph in memory (no cache); the caller encodes or inspects the model. */
export function rewriteTextGraph(
  files: ModelFiles,
  options: PrepareTextGraphOptions,
): { model: ModelProto; data: CachedData } {
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(files.text));
  let adapter: AdapterFile | undefined;
  let reason: string | undefined;
  let refusedReason: string | undefined;
  if (!options.applySpeechAdapter) reason = 'the speech adapter is turned off (engine.apply_speech_adapter: false)';
  else if (files.speechAdapter === undefined) reason = 'genai_config.json names no speech adapter';
  else {
    const read = readAdapter(files.speechAdapter);
    adapter = read.adapter;
    refusedReason = read.problem;
  }
  const lora = rewriteLoraBranches(model, { adapter, noAdapterReason: refusedReason ?? reason });
  if (refusedReason !== undefined && lora.speechAdapter !== 'merged') lora.speechAdapter = 'refused';
  const lastPositionLogits: LastPositionResult = options.lastPositionLogits
    ? sliceLogitsToLastPosition(model, options.logitsName)
    : { applied: false, reason: 'turned off (lastPositionLogits: false)' };
  return { model, data: { lora, lastPositionLogits, weightBytes: initializerBytes(model) } };
}

function cacheKeyOf(files: ModelFiles, options: PrepareTextGraphOptions): CacheKey {
  return {
    version: GRAPH_REWRITE_VERSION,
    sources: [
      stampOf(files.text),
      stampOf(`${files.text}.data`),
      files.speechAdapter ? stampOf(files.speechAdapter) : undefined,
    ],
    options: {
      applySpeechAdapter: options.applySpeechAdapter,
      lastPositionLogits: options.lastPositionLogits,
      logitsName: options.logitsName,
    },
  };
}

/** The prepared decoder graph: from the cache when valid, else rewritten now (and cached). */
export function prepareTextGraph(files: ModelFiles, options: PrepareTextGraphOptions): PreparedTextGraph {
  const key = cacheKeyOf(files, options);
  const entry = cacheEntry(files.dir, files.text, key, options.cacheDir);
  const cached = readCached<CachedData>(entry, key);
  if (cached !== undefined) {
    const inModelDir = entry.location === 'model_dir';
    return {
      ...cached,
      path: inModelDir ? entry.graphPath : undefined,
      bytes: inModelDir ? undefined : readFileSync(entry.graphPath),
      cache: { location: entry.location, reused: true, path: entry.graphPath },
    };
  }
  const { model, data } = rewriteTextGraph(files, options);
  const bytes = onnxProto.onnx.ModelProto.encode(model).finish();
  if (options.writeCache === false) return { ...data, bytes, cache: { location: 'none', reused: false } };
  const problem = writeCached(entry, key, bytes, data);
  if (problem !== undefined)
    return {
      ...data,
      bytes,
      cache: {
        location: 'none',
        reused: false,
        problem: `could not cache the rewritten graph at ${entry.graphPath}: ${problem}`,
      },
    };
  const inModelDir = entry.location === 'model_dir';
  return {
    ...data,
    path: inModelDir ? entry.graphPath : undefined,
    bytes: inModelDir ? undefined : bytes,
    cache: { location: entry.location, reused: false, path: entry.graphPath },
  };
}
