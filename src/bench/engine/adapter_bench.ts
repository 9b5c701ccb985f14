// `adapter_step_ratio` of `earshot bench engine`: what the speech LoRA costs per decode step once the
// load-time rewrite (phi4mm/lora_rewrite.ts) has made its tensors constants at the adapter's rank.
//   adapter_step_ratio       one-token step, speech adapter applied / LoRA branches removed (target <= 1.25)
//   adapter_layers_ratio     the same without the lm_head (no logits row computed): the decoder layers only,
//                            where the LoRA lives. The bench preset has 2 layers against the real model's 32,
//                            so its full-step ratio is diluted by the lm_head; the layer ratio is not.
//   graph_inputs_step_ratio  the export's graph as shipped (zero LoRA tensors that are graph inputs, which
//                            onnxruntime cannot pre-pack) / branches removed: what the rewrite avoids.
// Each graph gets its own session with the same thread count; steps run in alternation, after warm-up, at a
// fixed past length, and the medians are compared (the machine is shared, so single runs are noisy).

import * as ort from 'onnxruntime-node';
import { inspectModelFiles } from '../../engine/phi4mm/model_check.ts';
import { findModelFiles } from '../../engine/phi4mm/model_dir.ts';
import { LOGITS_LAST, LOGITS_NONE, LOGITS_START_INPUT } from '../../engine/phi4mm/graph_rewrite.ts';
import { prepareTextGraph, type PreparedTextGraph } from '../../engine/phi4mm/text_graph_prepare.ts';
import { floatTensor, onesMask } from '../../engine/phi4mm/tensors.ts';

export interface AdapterBenchOptions {
  /** Past positions of the measured step (default 64). */
  pastTokens?: number;
  /** Timed steps per graph per round (default 8) and rounds (default 5); warm-up steps per graph (default 6). */
  steps?: number;
  rounds?: number;
  warmup?: number;
  /** Also measure the graph as exported, LoRA tensors as graph inputs (default true; slow to load at bench size). */
  graphInputs?: boolean;
  progress?: (message: string) => void;
}

export interface AdapterBenchResult {
  /** null when the speech adapter could not be applied (see `speech_adapter`). */
  adapter_step_ratio: number | null;
  adapter_layers_ratio: number | null;
  graph_inputs_step_ratio: number | null;
  step_ms_adapter: number | null;
  step_ms_no_lora: number;
  step_ms_graph_inputs: number | null;
  layers_ms_adapter: number | null;
  layers_ms_no_lora: number | null;
  speech_adapter: string;
  speech_adapter_rank: number | null;
  graph_lora_rank: number | null;
  past_tokens: number;
  threads: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** Deterministic small values for the step's inputs. */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * 0.2;
  }
  return out;
}

async function session(
  prepared: PreparedTextGraph | string,
  dir: string,
  threads: number,
): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  if (typeof prepared === 'string') return ort.InferenceSession.create(prepared, options);
  if (prepared.path !== undefined) return ort.InferenceSession.create(prepared.path, options);
  return ort.InferenceSession.create(prepared.bytes!, {
    ...options,
    extra: { session: { model_external_initializers_file_folder_path: dir } },
  });
}

export async function benchAdapterStep(
  modelDir: string,
  threads: number,
  options: AdapterBenchOptions = {},
): Promise<AdapterBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const files = findModelFiles(modelDir);
  const io = inspectModelFiles(files).io!;
  const t = io.names.text;
  const past = options.pastTokens ?? 64;
  const prepare = (applySpeechAdapter: boolean) =>
    prepareTextGraph(files, { applySpeechAdapter, lastPositionLogits: true, logitsName: t.logits });
  progress('adapter step: preparing the decoder with the speech adapter applied and with the LoRA branches removed');
  const applied = prepare(true);
  const removed = prepare(false);
  const sessions: Record<string, ort.InferenceSession> = { none: await session(removed, files.dir, threads) };
  if (applied.lora.speechAdapter === 'applied') sessions.adapter = await session(applied, files.dir, threads);
  if (options.graphInputs !== false) {
    progress('adapter step: loading the decoder as exported (LoRA tensors as graph inputs)');
    sessions.inputs = await session(files.text, files.dir, threads);
  }
  const kv: Record<string, ort.Tensor> = {};
  for (let i = 0; i < io.numLayers; i++) {
    kv[t.pastKeys[i]] = floatTensor(io.floatType, values(io.numKvHeads * past * io.headSize, 2 * i + 1), [
      1,
      io.numKvHeads,
      past,
      io.headSize,
    ]);
    kv[t.pastValues[i]] = floatTensor(io.floatType, values(io.numKvHeads * past * io.headSize, 2 * i + 2), [
      1,
      io.numKvHeads,
      past,
      io.headSize,
    ]);
  }
  const base = {
    ...kv,
    [t.inputsEmbeds]: floatTensor(io.floatType, values(io.hiddenSize, 99), [1, 1, io.hiddenSize]),
    [t.attentionMask]: onesMask(past + 1),
  };
  // The layers-only step needs the last-position slice (graph_rewrite.ts) to compute no logits row.
  const sliced = applied.lastPositionLogits.applied && removed.lastPositionLogits.applied;
  const feeds = (name: string, logits: boolean): Record<string, ort.Tensor> =>
    name === 'inputs' || !sliced
      ? base
      : {
          ...base,
          [LOGITS_START_INPUT]: new ort.Tensor('int64', BigInt64Array.of(logits ? LOGITS_LAST : LOGITS_NONE), [1]),
        };
  const timed: Record<string, number[]> = {};
  const run = async (name: string, key: string, logits: boolean, count: number) => {
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      const out = await sessions[name].run(feeds(name, logits));
      const ms = performance.now() - start;
      for (const tensor of Object.values(out)) tensor.dispose();
      if (key !== '') (timed[key] ??= []).push(ms);
    }
  };
  try {
    progress('adapter step: alternating timed steps (full step, then layers only)');
    for (const name of Object.keys(sessions)) await run(name, '', true, options.warmup ?? 6);
    for (let r = 0; r < (options.rounds ?? 5); r++) {
      for (const name of Object.keys(sessions)) {
        await run(name, `${name}/step`, true, options.steps ?? 8);
        if (name !== 'inputs' && sliced) await run(name, `${name}/layers`, false, options.steps ?? 8);
      }
    }
  } finally {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
  }
  const ms = (key: string) => (timed[key] ? median(timed[key]) : null);
  const none = ms('none/step')!;
  const noneLayers = ms('none/layers');
  const ratio = (value: number | null, baseline: number) => (value === null ? null : round(value / baseline));
  return {
    adapter_step_ratio: ratio(ms('adapter/step'), none),
    adapter_layers_ratio: noneLayers === null ? null : ratio(ms('adapter/layers'), noneLayers),
    graph_inputs_step_ratio: ratio(ms('inputs/step'), none),
    step_ms_adapter: ms('adapter/step') === null ? null : round(ms('adapter/step')!, 2),
    step_ms_no_lora: round(none, 2),
    step_ms_graph_inputs: ms('inputs/step') === null ? null : round(ms('inputs/step')!, 2),
    layers_ms_adapter: ms('adapter/layers') === null ? null : round(ms('adapter/layers')!, 2),
    layers_ms_no_lora: noneLayers === null ? null : round(noneLayers, 2),
    speech_adapter: applied.lora.speechAdapter,
    speech_adapter_rank: applied.lora.speechAdapterRank ?? null,
    graph_lora_rank: applied.lora.graphLoraRank ?? null,
    past_tokens: past,
    threads,
  };
}
