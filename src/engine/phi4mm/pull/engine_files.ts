import { z } from 'zod';

// Which files of an export folder the engine uses, read from the folder's genai_config.json: the text,
// embedding and speech graphs with their external data, the speech processor config, the speech LoRA adapter
// and the tokenizer. The vision graph, its processor config and adapter only on request (`--with-vision`):
// the engine never runs them for speech, and they are large.

/** What names a rewritten-graph cache entry beside its graph (ENTRY_MARK in ../graph_cache.ts). */
const GRAPH_CACHE_MARK = '.earshot-';

/** Longest genai_config.json read while planning, in bytes; the real one is a few KB. */
export const MAX_GENAI_CONFIG_BYTES = 1024 * 1024;

export const TOKENIZER_FILES: readonly string[] = ['tokenizer.json', 'tokenizer_config.json'];

// The builder's default names, used when the config leaves a field out (as the engine's own reader does).
const DEFAULTS = {
  text: 'phi-4-mm-text.onnx',
  embedding: 'phi-4-mm-embedding.onnx',
  speech: 'phi-4-mm-speech.onnx',
  speechConfig: 'speech_processor.json',
  speechAdapter: 'phi-4-mm-speech.onnx_adapter',
  vision: 'phi-4-mm-vision.onnx',
  visionConfig: 'vision_processor.json',
  visionAdapter: 'phi-4-mm-vision.onnx_adapter',
};

/** The files a user without network must place by hand (default names, no vision). */
export const ENGINE_FILES_BY_DEFAULT: readonly string[] = [
  'genai_config.json',
  ...TOKENIZER_FILES,
  DEFAULTS.text,
  `${DEFAULTS.text}.data`,
  DEFAULTS.embedding,
  `${DEFAULTS.embedding}.data`,
  DEFAULTS.speech,
  `${DEFAULTS.speech}.data`,
  DEFAULTS.speechConfig,
  DEFAULTS.speechAdapter,
];

// Only the fields that name files; everything else in the config is the engine's business.
const fileFields = z.object({
  filename: z.string().min(1).optional(),
  config_filename: z.string().min(1).optional(),
  adapter_filename: z.string().min(1).optional(),
});
const looseConfigSchema = z.object({
  model: z.object({
    decoder: fileFields.optional(),
    embedding: fileFields.optional(),
    speech: fileFields.optional(),
    vision: fileFields.optional(),
  }),
});

export interface EngineFileSelection {
  /** Paths (relative to the variant folder) to download, in listing order. */
  selected: string[];
  /** Files the engine needs that the folder does not list. */
  missing: string[];
  /** Listed files left on the hub (unused by the engine, or vision without --with-vision). */
  leftOut: string[];
}

export type GenaiConfigFiles = { ok: true; names: ReturnType<typeof namesFrom> } | { ok: false; reason: string };

function namesFrom(model: z.infer<typeof looseConfigSchema>['model']) {
  return {
    text: model.decoder?.filename ?? DEFAULTS.text,
    embedding: model.embedding?.filename ?? DEFAULTS.embedding,
    speech: model.speech?.filename ?? DEFAULTS.speech,
    speechConfig: model.speech?.config_filename ?? DEFAULTS.speechConfig,
    /** Named by the config: required; otherwise taken when listed under the default name. */
    speechAdapter: model.speech?.adapter_filename,
    vision:
      model.vision === undefined
        ? undefined
        : {
            graph: model.vision.filename ?? DEFAULTS.vision,
            config: model.vision.config_filename ?? DEFAULTS.visionConfig,
            adapter: model.vision.adapter_filename,
          },
  };
}

/** Parses the file names out of a genai_config.json's text. */
export function genaiConfigFiles(text: string): GenaiConfigFiles {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `it is not valid JSON (${(err as Error).message})` };
  }
  const parsed = looseConfigSchema.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: `it has no usable "model" section (${parsed.error.issues[0]?.message ?? 'invalid'})` };
  return { ok: true, names: namesFrom(parsed.data.model) };
}

/**
 * Chooses among `listed` (paths relative to the variant folder) the files the engine uses. A graph's
 * external data are the listed files whose name starts with the graph's name and a dot (`x.onnx.data`).
 */
export function selectEngineFiles(
  names: ReturnType<typeof namesFrom>,
  listed: readonly string[],
  withVision: boolean,
): EngineFileSelection & { visionAbsent: boolean } {
  const required = [
    'genai_config.json',
    ...TOKENIZER_FILES,
    names.text,
    names.embedding,
    names.speech,
    names.speechConfig,
  ];
  const optional: string[] = [];
  const graphs = [names.text, names.embedding, names.speech];
  if (names.speechAdapter !== undefined) required.push(names.speechAdapter);
  else optional.push(DEFAULTS.speechAdapter);
  const visionAbsent = withVision && names.vision === undefined;
  if (withVision && names.vision !== undefined) {
    required.push(names.vision.graph, names.vision.config);
    graphs.push(names.vision.graph);
    optional.push(names.vision.adapter ?? DEFAULTS.visionAdapter);
  }
  const wanted = new Set([...required, ...optional]);
  // A rewritten-graph cache entry (`x.onnx.earshot-<key>.onnx` / `.json`, graph_cache.ts) also starts with the
  // graph's name and a dot, but it is a local artifact keyed by the paths and times of the machine that wrote
  // it (left in a folder uploaded from a loaded model): never external data, never downloaded.
  const isExternalData = (path: string) =>
    graphs.some((g) => path.startsWith(`${g}.`) && !path.startsWith(`${g}${GRAPH_CACHE_MARK}`));
  const selected = listed.filter((p) => wanted.has(p) || isExternalData(p));
  const listedSet = new Set(listed);
  return {
    selected,
    missing: required.filter((p) => !listedSet.has(p)),
    leftOut: listed.filter((p) => !selected.includes(p)),
    visionAbsent,
  };
}
