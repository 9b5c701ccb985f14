import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { EarshotError } from '../../errors.ts';
import { describeConfigIssues, genaiConfigSchema, type GenaiConfig } from './genai_config.ts';

// Locating the files of a model directory from its genai_config.json, and reading a graph's
// input/output signature straight from the .onnx protobuf (without loading weights), so the layout
// can be verified before any session is created.

const { onnx } = onnxProto;

export const GENAI_CONFIG_FILE = 'genai_config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const MODEL_PULL_HINT =
  'Run `earshot model pull` to download the model, or point the config at an exported model directory.';

export interface ModelFiles {
  dir: string;
  config: GenaiConfig;
  configPath: string;
  speech: string;
  embedding: string;
  text: string;
  speechProcessor: string;
  tokenizer: string;
  tokenizerConfig: string;
  /** Listed in the config; may be absent on disk (see `missing`). */
  speechAdapter?: string;
  /** Only when the config has a vision section and the graph exists (vision is optional). */
  vision?: string;
  visionAdapter?: string;
}

export interface ResolvedModelFiles {
  files: ModelFiles;
  /** Files the config lists (or Earshot requires) that are not on disk, as absolute paths. */
  missing: string[];
  /** Informational findings, e.g. "vision graph absent". */
  notes: string[];
}

/** Reads and validates genai_config.json; throws E_MODEL_MISSING / E_MODEL_INVALID. */
export function readGenaiConfig(dir: string): { config: GenaiConfig; configPath: string } {
  const absDir = resolve(dir);
  if (!existsSync(absDir) || !statSync(absDir).isDirectory()) {
    throw new EarshotError('E_MODEL_MISSING', `Model directory ${absDir} does not exist. ${MODEL_PULL_HINT}`);
  }
  const configPath = join(absDir, GENAI_CONFIG_FILE);
  if (!existsSync(configPath)) {
    throw new EarshotError(
      'E_MODEL_MISSING',
      `${configPath} is missing, so ${absDir} is not an exported model directory. ${MODEL_PULL_HINT}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new EarshotError('E_MODEL_INVALID', `${configPath} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = genaiConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `${configPath} is invalid:\n  ${describeConfigIssues(parsed.error).join('\n  ')}`,
    );
  }
  return { config: parsed.data, configPath };
}

/** Resolves every file of the directory without throwing on missing ones. */
export function resolveModelFiles(dir: string): ResolvedModelFiles {
  const absDir = resolve(dir);
  const { config, configPath } = readGenaiConfig(absDir);
  const m = config.model;
  const at = (name: string) => join(absDir, name);
  const files: ModelFiles = {
    dir: absDir,
    config,
    configPath,
    speech: at(m.speech.filename),
    embedding: at(m.embedding.filename),
    text: at(m.decoder.filename),
    speechProcessor: at(m.speech.config_filename),
    tokenizer: at(TOKENIZER_FILE),
    tokenizerConfig: at(TOKENIZER_CONFIG_FILE),
    speechAdapter: m.speech.adapter_filename ? at(m.speech.adapter_filename) : undefined,
  };
  const required = [
    files.speech,
    files.embedding,
    files.text,
    files.speechProcessor,
    files.tokenizer,
    files.tokenizerConfig,
  ];
  if (files.speechAdapter) required.push(files.speechAdapter);
  const missing = required.filter((path) => !existsSync(path));
  const notes: string[] = [];
  if (m.vision) {
    const visionPath = at(m.vision.filename);
    if (existsSync(visionPath)) {
      files.vision = visionPath;
      if (m.vision.adapter_filename && existsSync(at(m.vision.adapter_filename)))
        files.visionAdapter = at(m.vision.adapter_filename);
    } else {
      notes.push(`${m.vision.filename} is absent: image input is unavailable (vision is optional).`);
    }
  }
  return { files, missing, notes };
}

/** Resolves the directory's files and throws E_MODEL_MISSING naming every missing file. */
export function findModelFiles(dir: string): ModelFiles {
  const { files, missing } = resolveModelFiles(dir);
  if (missing.length > 0) {
    throw new EarshotError(
      'E_MODEL_MISSING',
      `The model directory ${files.dir} is incomplete; missing:\n  ${missing.join('\n  ')}\n${MODEL_PULL_HINT}`,
    );
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Graph signatures

export interface ValueSignature {
  name: string;
  /** 'float32', 'float16', 'int64', ... or 'unknown(<onnx type>)'. */
  elemType: string;
  /** A number for a fixed dim, a string for a symbolic one, null when unspecified. */
  dims: (number | string | null)[];
}

export interface GraphSignature {
  /** Inputs without a default value: the caller must feed them. */
  inputs: ValueSignature[];
  /** Inputs backed by an initializer (LoRA weights in the export): feeding them is optional. */
  overridableInputs: ValueSignature[];
  outputs: ValueSignature[];
  /** External data files the initializers point at, with the byte length each needs to have. */
  externalData: { location: string; minBytes: number }[];
}

const ELEM_TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

export function elemTypeName(onnxType: number): string {
  return ELEM_TYPE_NAMES[onnxType] ?? `unknown(${onnxType})`;
}

function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(String(value));
}

function signatureOf(info: onnxProto.onnx.IValueInfoProto): ValueSignature {
  const tensorType = info.type?.tensorType;
  const dims = (tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== undefined && d.dimValue !== null) return toNumber(d.dimValue);
    return null;
  });
  return { name: info.name ?? '', elemType: elemTypeName(tensorType?.elemType ?? 0), dims };
}

/** Parses an .onnx file's inputs, outputs and external-data references (weights are not read). */
export function readGraphSignature(path: string): GraphSignature {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (err) {
    throw new EarshotError('E_MODEL_INVALID', `${path} is not a readable ONNX model: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const graph = model.graph;
  const initializerNames = new Set((graph?.initializer ?? []).map((t) => t.name ?? ''));
  const all = (graph?.input ?? []).map(signatureOf);
  const external = new Map<string, number>();
  for (const tensor of graph?.initializer ?? []) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location') ?? '';
    const end = Number(entries.get('offset') ?? 0) + Number(entries.get('length') ?? 0);
    external.set(location, Math.max(external.get(location) ?? 0, end));
  }
  return {
    inputs: all.filter((v) => !initializerNames.has(v.name)),
    overridableInputs: all.filter((v) => initializerNames.has(v.name)),
    outputs: (graph?.output ?? []).map(signatureOf),
    externalData: [...external].map(([location, minBytes]) => ({ location, minBytes })),
  };
}
