import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import type { GenaiConfig } from './genai_config.ts';
import {
  LOGITS_LAST,
  LOGITS_NONE,
  LOGITS_START_INPUT,
  sliceLogitsToLastPosition,
  type LastPositionResult,
} from './graph_rewrite.ts';
import { findModelFiles, type ModelFiles } from './model_dir.ts';
import { formatDifferences, inspectModelFiles, type ModelIo } from './model_check.ts';
import type { LoraRewriteReport } from './lora_rewrite.ts';
import { prepareTextGraph, type PreparedTextGraph } from './text_graph_prepare.ts';

// Loads the Phi-4-mm ONNX graphs of one model directory into onnxruntime-node sessions after
// verifying their signatures. Sessions are created from file paths so onnxruntime finds each graph's
// external `.onnx.data` file next to it.

type ModelProto = ReturnType<typeof onnxProto.onnx.ModelProto.decode>;

export interface Phi4Model {
  dir: string;
  files: ModelFiles;
  config: GenaiConfig;
  speech: ort.InferenceSession;
  embedding: ort.InferenceSession;
  text: ort.InferenceSession;
  vision?: ort.InferenceSession;
  io: ModelIo;
  /** Whether the text graph computes logits for the last position only (graph_rewrite.ts), or why not. */
  lastPositionLogits: LastPositionResult;
  /** What the load-time LoRA rewrite did (lora_rewrite.ts); undefined on the initializerOverrides path. */
  lora?: LoraRewriteReport;
  /** Where the prepared decoder graph came from (text_graph_prepare.ts); undefined on the overrides path. */
  textGraphCache?: PreparedTextGraph['cache'];
  /** Extra text-graph feeds: which positions get logits (the last, or none) when the graph was rewritten. */
  textFeeds(logits: boolean): Record<string, ort.Tensor>;
  /** Releases every session; the model must not be used afterwards. */
  dispose(): Promise<void>;
}

/** A tensor that replaces an initializer's value at load time (same layout as an adapter parameter). */
export interface InitializerOverride {
  name: string;
  dims: number[];
  /** ONNX TensorProto data type. */
  dataType: number;
  rawData: Uint8Array;
}

export interface LoadPhi4Options {
  /** Load phi-4-mm-vision.onnx when present (default false: Earshot v1 is speech and text). */
  loadVision?: boolean;
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /**
   * Values baked into initializer-backed inputs (LoRA weights) when the graph is loaded. This is the
   * only way to apply an adapter with onnxruntime-node 1.30: its run() silently drops feeds whose
   * names are not in session.inputNames, and initializer-backed inputs are not listed there.
   */
  initializerOverrides?: { speech?: InitializerOverride[]; text?: InitializerOverride[] };
  /** Rewrite the text graph so the lm_head runs on the last position only (default true). */
  lastPositionLogits?: boolean;
  /**
   * Apply the variant's speech LoRA adapter by rewriting the decoder's LoRA branches (default true);
   * false, or an adapter that does not fit, removes the branches. Ignored with initializerOverrides.text,
   * which keeps the graph's LoRA inputs as exported and overwrites their values (the older path).
   */
  applySpeechAdapter?: boolean;
  /** Where to cache the prepared decoder graph (default: beside the model, else the user cache). */
  graphCacheDir?: string;
}

/**
 * Default session options. Severity 3 (error) because the export declares its LoRA weights as
 * initializer-backed inputs, for which onnxruntime prints one warning per tensor at load time.
 */
const DEFAULT_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
};

/**
 * Rewrites a graph's protobuf with the overrides stored inline. The weights stay in the external
 * .data file; the session config key below tells onnxruntime where to find it when the model comes
 * from a buffer.
 */
function graphBytesWithOverrides(
  path: string,
  overrides: InitializerOverride[],
  rewrite?: (model: ModelProto) => void,
): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  rewrite?.(model);
  const initializers = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const problems: string[] = [];
  for (const override of overrides) {
    const tensor = initializers.get(override.name);
    if (!tensor) {
      problems.push(`"${override.name}" is not an initializer of ${basename(path)}`);
      continue;
    }
    const dims = (tensor.dims ?? []).map(Number);
    if (tensor.dataType !== override.dataType || dims.join(',') !== override.dims.join(',')) {
      problems.push(
        `"${override.name}": graph has type ${tensor.dataType} [${dims.join(', ')}], override has type ${override.dataType} [${override.dims.join(', ')}]`,
      );
      continue;
    }
    tensor.dataLocation = onnxProto.onnx.TensorProto.DataLocation.DEFAULT;
    tensor.externalData = [];
    tensor.rawData = override.rawData;
  }
  if (problems.length > 0) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `Cannot apply initializer overrides to ${path}:\n  ${problems.join('\n  ')}`,
    );
  }
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

/** A session from bytes whose external weights live in `dir`. */
async function sessionFromBytes(
  bytes: Uint8Array,
  dir: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  const extra = {
    ...(options.extra ?? {}),
    session: { ...(options.extra?.session ?? {}), model_external_initializers_file_folder_path: dir },
  };
  return ort.InferenceSession.create(bytes, { ...options, extra });
}

/** The prepared decoder graph (LoRA rewrite + last-position logits, cached) as a session. */
async function preparedTextSession(
  prepared: PreparedTextGraph,
  textPath: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  try {
    if (prepared.path !== undefined) return await ort.InferenceSession.create(prepared.path, options);
    return await sessionFromBytes(prepared.bytes!, dirname(textPath), options);
  } catch (err) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `onnxruntime could not load the prepared decoder graph of ${textPath}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function createSession(
  path: string,
  options: ort.InferenceSession.SessionOptions,
  overrides: InitializerOverride[] = [],
  rewrite?: (model: ModelProto) => void,
): Promise<ort.InferenceSession> {
  try {
    if (overrides.length === 0 && rewrite === undefined) return await ort.InferenceSession.create(path, options);
    return await sessionFromBytes(graphBytesWithOverrides(path, overrides, rewrite), dirname(path), options);
  } catch (err) {
    if (err instanceof EarshotError) throw err;
    throw new EarshotError('E_MODEL_INVALID', `onnxruntime could not load ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export async function loadPhi4Model(dir: string, opts: LoadPhi4Options = {}): Promise<Phi4Model> {
  const files = findModelFiles(dir);
  const inspection = inspectModelFiles(files);
  if (inspection.differences.length > 0 || !inspection.io) {
    throw new EarshotError('E_MODEL_INVALID', formatDifferences(files.dir, inspection.differences));
  }
  const sessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...opts.sessionOptions };
  const created: ort.InferenceSession[] = [];
  const track = async (path: string, overrides?: InitializerOverride[], rewrite?: (model: ModelProto) => void) => {
    const session = await createSession(path, sessionOptions, overrides, rewrite);
    created.push(session);
    return session;
  };
  try {
    // Sequential on purpose: loading the large graphs in parallel doubles peak memory for no gain on 2 cores.
    const speech = await track(files.speech, opts.initializerOverrides?.speech);
    const embedding = await track(files.embedding);
    let lastPositionLogits: LastPositionResult = { applied: false, reason: 'turned off (lastPositionLogits: false)' };
    let text: ort.InferenceSession;
    let prepared: PreparedTextGraph | undefined;
    if (opts.initializerOverrides?.text !== undefined) {
      const rewrite =
        opts.lastPositionLogits === false
          ? undefined
          : (model: ModelProto) => {
              lastPositionLogits = sliceLogitsToLastPosition(model, inspection.io!.names.text.logits);
            };
      text = await track(files.text, opts.initializerOverrides.text, rewrite);
    } else {
      prepared = prepareTextGraph(files, {
        applySpeechAdapter: opts.applySpeechAdapter !== false,
        lastPositionLogits: opts.lastPositionLogits !== false,
        logitsName: inspection.io.names.text.logits,
        cacheDir: opts.graphCacheDir,
      });
      lastPositionLogits = prepared.lastPositionLogits;
      text = await preparedTextSession(prepared, files.text, sessionOptions);
      created.push(text);
    }
    const vision = opts.loadVision && files.vision ? await track(files.vision) : undefined;
    let disposed = false;
    return {
      dir: files.dir,
      files,
      config: files.config,
      speech,
      embedding,
      text,
      vision,
      io: inspection.io,
      lastPositionLogits,
      lora: prepared?.lora,
      textGraphCache: prepared?.cache,
      textFeeds: (logits: boolean): Record<string, ort.Tensor> =>
        lastPositionLogits.applied
          ? { [LOGITS_START_INPUT]: new ort.Tensor('int64', BigInt64Array.of(logits ? LOGITS_LAST : LOGITS_NONE), [1]) }
          : {},
      async dispose() {
        if (disposed) return;
        disposed = true;
        await Promise.all(created.map((s) => s.release()));
      },
    };
  } catch (err) {
    await Promise.allSettled(created.map((s) => s.release()));
    throw err;
  }
}
