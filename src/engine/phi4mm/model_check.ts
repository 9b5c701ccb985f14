import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EarshotError } from '../../errors.ts';
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { LoraRewriteReport } from './lora_rewrite.ts';
import type { FloatType } from './tensors.ts';
import { initializerBytes, rewriteTextGraph } from './text_graph_prepare.ts';
import { expandLayerNames, type GenaiConfig } from './genai_config.ts';
import {
  readGraphSignature,
  resolveModelFiles,
  type GraphSignature,
  type ModelFiles,
  type ValueSignature,
} from './model_dir.ts';

// Verifies a model directory against the inference contract (docs/model.md): every graph's
// input/output names, element types and ranks, consistent float type, files present. All findings are
// collected so one message lists every difference.

export type { FloatType };
const FLOAT = 'F';

interface ExpectedValue {
  name: string;
  /** A concrete type, or 'F' for the model's float type. */
  type: string;
  /** Accepted ranks (audio_features may be 2-D or 3-D). */
  ranks: number[];
  /** Fixed sizes to check when the graph declares the dim as a number: [axis, size] pairs; negative axis counts from the end. */
  fixed?: [number, number][];
}

export interface ResolvedIoNames {
  speech: {
    audioEmbeds: string;
    attentionMask: string;
    audioSizes: string;
    audioProjectionMode: string;
    audioFeatures: string;
  };
  embedding: { inputIds: string; imageFeatures: string; audioFeatures: string; inputsEmbeds: string };
  text: {
    inputsEmbeds: string;
    attentionMask: string;
    pastKeys: string[];
    pastValues: string[];
    logits: string;
    presentKeys: string[];
    presentValues: string[];
  };
}

export interface ModelIo {
  floatType: FloatType;
  numLayers: number;
  numKvHeads: number;
  numHeads: number;
  headSize: number;
  hiddenSize: number;
  vocabSize: number;
  contextLength: number;
  names: ResolvedIoNames;
  /** Inputs with zero defaults (LoRA weights), by graph. */
  loraInputs: { speech: string[]; text: string[] };
  loraInputDetails: { speech: ValueSignature[]; text: ValueSignature[] };
}

export interface ModelInspection {
  differences: string[];
  notes: string[];
  io?: ModelIo;
}

export function resolveIoNames(config: GenaiConfig): ResolvedIoNames {
  const m = config.model;
  const layers = m.decoder.num_hidden_layers;
  return {
    speech: {
      audioEmbeds: m.speech.inputs.audio_embeds,
      attentionMask: m.speech.inputs.attention_mask,
      audioSizes: m.speech.inputs.audio_sizes,
      audioProjectionMode: m.speech.inputs.audio_projection_mode,
      audioFeatures: m.speech.outputs.audio_features,
    },
    embedding: {
      inputIds: m.embedding.inputs.input_ids,
      imageFeatures: m.embedding.inputs.image_features,
      audioFeatures: m.embedding.inputs.audio_features,
      inputsEmbeds: m.embedding.outputs.inputs_embeds,
    },
    text: {
      inputsEmbeds: m.decoder.inputs.inputs_embeds,
      attentionMask: m.decoder.inputs.attention_mask,
      pastKeys: expandLayerNames(m.decoder.inputs.past_key_names, layers),
      pastValues: expandLayerNames(m.decoder.inputs.past_value_names, layers),
      logits: m.decoder.outputs.logits,
      presentKeys: expandLayerNames(m.decoder.outputs.present_key_names, layers),
      presentValues: expandLayerNames(m.decoder.outputs.present_value_names, layers),
    },
  };
}

function expectations(config: GenaiConfig, names: ResolvedIoNames) {
  const d = config.model.decoder;
  const hidden: [number, number] = [-1, d.hidden_size];
  const kv: [number, number][] = [
    [1, d.num_key_value_heads],
    [3, d.head_size],
  ];
  const v = (name: string, type: string, ranks: number[], fixed?: [number, number][]): ExpectedValue => ({
    name,
    type,
    ranks,
    fixed,
  });
  const s = names.speech;
  const e = names.embedding;
  const t = names.text;
  return {
    speech: {
      inputs: [
        v(s.audioEmbeds, FLOAT, [3], [[-1, 80]]),
        v(s.attentionMask, 'bool', [2]),
        v(s.audioSizes, 'int64', [1]),
        v(s.audioProjectionMode, 'int64', [1]),
      ],
      outputs: [v(s.audioFeatures, FLOAT, [2, 3], [hidden])],
    },
    embedding: {
      inputs: [
        v(e.inputIds, 'int64', [2]),
        v(e.imageFeatures, FLOAT, [2], [hidden]),
        v(e.audioFeatures, FLOAT, [2], [hidden]),
      ],
      outputs: [v(e.inputsEmbeds, FLOAT, [3], [hidden])],
    },
    text: {
      inputs: [
        v(t.inputsEmbeds, FLOAT, [3], [hidden]),
        v(t.attentionMask, 'int64', [2]),
        ...t.pastKeys.flatMap((k, i) => [v(k, FLOAT, [4], kv), v(t.pastValues[i], FLOAT, [4], kv)]),
      ],
      outputs: [
        v(t.logits, FLOAT, [3], [[-1, config.model.vocab_size]]),
        ...t.presentKeys.flatMap((k, i) => [v(k, FLOAT, [4], kv), v(t.presentValues[i], FLOAT, [4], kv)]),
      ],
    },
  };
}

function formatDims(dims: ValueSignature['dims']): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function compareValues(
  file: string,
  kind: 'input' | 'output',
  expected: ExpectedValue[],
  actual: ValueSignature[],
  floatType: FloatType,
  out: string[],
): void {
  const byName = new Map(actual.map((a) => [a.name, a]));
  for (const exp of expected) {
    const found = byName.get(exp.name);
    if (!found) {
      out.push(`${file}: ${kind} "${exp.name}" is missing`);
      continue;
    }
    const expType = exp.type === FLOAT ? floatType : exp.type;
    if (found.elemType !== expType)
      out.push(`${file}: ${kind} "${exp.name}": expected ${expType}, found ${found.elemType}`);
    if (!exp.ranks.includes(found.dims.length)) {
      out.push(
        `${file}: ${kind} "${exp.name}": expected rank ${exp.ranks.join(' or ')}, found rank ${found.dims.length} ${formatDims(found.dims)}`,
      );
      continue;
    }
    for (const [axis, size] of exp.fixed ?? []) {
      const dim = found.dims[axis < 0 ? found.dims.length + axis : axis];
      if (typeof dim === 'number' && dim !== size) {
        out.push(
          `${file}: ${kind} "${exp.name}": dimension ${axis < 0 ? found.dims.length + axis : axis} is ${dim}, expected ${size} (from genai_config.json)`,
        );
      }
    }
  }
}

function checkGraph(
  path: string,
  expected: { inputs: ExpectedValue[]; outputs: ExpectedValue[] },
  signature: GraphSignature,
  floatType: FloatType,
  out: string[],
): void {
  const file = basename(path);
  compareValues(file, 'input', expected.inputs, signature.inputs, floatType, out);
  compareValues(file, 'output', expected.outputs, signature.outputs, floatType, out);
  const known = new Set(expected.inputs.map((e) => e.name));
  for (const input of signature.inputs) {
    if (!known.has(input.name)) {
      out.push(
        `${file}: unexpected input "${input.name}" (${input.elemType} ${formatDims(input.dims)}) has no default value, and the engine does not feed it`,
      );
    }
  }
  for (const { location, minBytes } of signature.externalData) {
    const dataPath = join(dirname(path), location);
    if (!existsSync(dataPath)) out.push(`${file}: external data file ${location} is missing`);
    else if (statSync(dataPath).size < minBytes) {
      out.push(
        `${file}: external data file ${location} is ${statSync(dataPath).size} bytes, its weights need ${minBytes} (truncated download?)`,
      );
    }
  }
}

/** Verifies the graphs of already-resolved files; used by `checkModelDir` and the loader. */
export function inspectModelFiles(files: ModelFiles): ModelInspection {
  const differences: string[] = [];
  const notes: string[] = [];
  const config = files.config;
  if (config.model.type !== 'phi4mm')
    differences.push(`genai_config.json: model.type is "${config.model.type}", expected "phi4mm"`);
  const names = resolveIoNames(config);
  const expected = expectations(config, names);
  const graphs = { speech: files.speech, embedding: files.embedding, text: files.text } as const;
  const signatures: Partial<Record<keyof typeof graphs, GraphSignature>> = {};
  for (const [key, path] of Object.entries(graphs) as [keyof typeof graphs, string][]) {
    if (!existsSync(path)) continue; // reported as a missing file by the caller
    try {
      signatures[key] = readGraphSignature(path);
    } catch (err) {
      differences.push(err instanceof EarshotError ? err.message : `${basename(path)}: ${(err as Error).message}`);
    }
  }
  // The text graph's inputs_embeds fixes the float type; every other float I/O must agree with it.
  const embedsType = signatures.text?.inputs.find((i) => i.name === names.text.inputsEmbeds)?.elemType;
  let floatType: FloatType = 'float32';
  if (embedsType === 'float32' || embedsType === 'float16') floatType = embedsType;
  else if (embedsType)
    notes.push(
      `text graph input "${names.text.inputsEmbeds}" is ${embedsType}; checking the other graphs against float32`,
    );
  for (const key of Object.keys(graphs) as (keyof typeof graphs)[]) {
    const signature = signatures[key];
    if (signature) checkGraph(graphs[key], expected[key], signature, floatType, differences);
  }
  if (!signatures.speech || !signatures.embedding || !signatures.text) return { differences, notes };
  const d = config.model.decoder;
  const io: ModelIo = {
    floatType,
    numLayers: d.num_hidden_layers,
    numKvHeads: d.num_key_value_heads,
    numHeads: d.num_attention_heads,
    headSize: d.head_size,
    hiddenSize: d.hidden_size,
    vocabSize: config.model.vocab_size,
    contextLength: config.model.context_length,
    names,
    loraInputs: {
      speech: signatures.speech.overridableInputs.map((v) => v.name),
      text: signatures.text.overridableInputs.map((v) => v.name),
    },
    loraInputDetails: { speech: signatures.speech.overridableInputs, text: signatures.text.overridableInputs },
  };
  return { differences, notes, io };
}

export interface ModelCheckSummary {
  dir: string;
  floatType: FloatType;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  files: { name: string; sizeBytes: number }[];
  /** LoRA tensors declared graph inputs, as exported (before the load-time rewrite). */
  loraInputs: { speech: number; text: number };
  vision: boolean;
  notes: string[];
  /** What the engine's load-time LoRA rewrite does with this directory (done in memory, nothing written). */
  lora: LoraRewriteReport;
  /** Weight bytes of the graphs the engine loads (speech, embedding, rewritten text), before any session. */
  residentBytesEstimate: number;
}

export type ModelCheckResult = { ok: true; summary: ModelCheckSummary } | { ok: false; differences: string[] };

/** Checks a model directory; never throws for a bad model, it lists every difference instead. */
export async function checkModelDir(dir: string): Promise<ModelCheckResult> {
  let resolved: ReturnType<typeof resolveModelFiles>;
  try {
    resolved = resolveModelFiles(dir);
  } catch (err) {
    if (err instanceof EarshotError) return { ok: false, differences: [err.message] };
    throw err;
  }
  const { files, missing, notes } = resolved;
  const differences = missing.map((path) => `${basename(path)} is missing (${path})`);
  const inspection = inspectModelFiles(files);
  differences.push(...inspection.differences);
  if (differences.length > 0 || !inspection.io) return { ok: false, differences };
  const io = inspection.io;
  const rewritten = rewriteTextGraph(files, {
    applySpeechAdapter: true,
    lastPositionLogits: true,
    logitsName: io.names.text.logits,
  });
  const graphBytes = (path: string) => initializerBytes(onnxProto.onnx.ModelProto.decode(readFileSync(path)));
  const listed = [
    files.configPath,
    files.speech,
    files.embedding,
    files.text,
    files.speechProcessor,
    files.tokenizer,
    files.tokenizerConfig,
  ];
  if (files.speechAdapter) listed.push(files.speechAdapter);
  if (files.vision) listed.push(files.vision);
  return {
    ok: true,
    summary: {
      dir: files.dir,
      floatType: io.floatType,
      numLayers: io.numLayers,
      hiddenSize: io.hiddenSize,
      vocabSize: io.vocabSize,
      files: listed.map((path) => ({ name: basename(path), sizeBytes: statSync(path).size })),
      loraInputs: { speech: io.loraInputs.speech.length, text: io.loraInputs.text.length },
      vision: files.vision !== undefined,
      notes: [...notes, ...inspection.notes],
      lora: rewritten.data.lora,
      residentBytesEstimate: graphBytes(files.speech) + graphBytes(files.embedding) + rewritten.data.weightBytes,
    },
  };
}

/** One error message listing every difference, for the loader and the CLI. */
export function formatDifferences(dir: string, differences: string[]): string {
  return `The model directory ${dir} does not match the Phi-4-multimodal ONNX layout (${differences.length} difference${differences.length === 1 ? '' : 's'}):\n  ${differences.join('\n  ')}`;
}
