import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

// Where the Phi-4-multimodal ONNX files live on disk. Shared by `earshot model pull` (where to write) and the
// server (where to load from), so both agree without either knowing about the other.

export const MODEL_VARIANTS = ['cpu', 'gpu'] as const;
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

// CPU by default: onnxruntime-node's npm package only carries the CPU execution provider (CUDA needs an
// install step that is skipped offline), and the CPU export has float32 inputs/outputs.
export const DEFAULT_MODEL_VARIANT: ModelVariant = 'cpu';

/** Environment variable naming the model directory; wins over the config file and the cache default. */
export const MODEL_DIR_ENV = 'EARSHOT_MODEL';

/** Folder name under the cache root; named after the hub repository so a look at the disk explains itself. */
export const MODEL_CACHE_NAME = 'phi-4-multimodal-instruct-onnx';

export function isModelVariant(value: unknown): value is ModelVariant {
  return typeof value === 'string' && (MODEL_VARIANTS as readonly string[]).includes(value);
}

type Env = Record<string, string | undefined>;

/**
 * The cache location `earshot model pull` uses when nothing else is said:
 * `$XDG_CACHE_HOME/earshot/models/phi-4-multimodal-instruct-onnx/<variant>`, or `~/.cache/...` when
 * XDG_CACHE_HOME is unset or relative (the XDG spec says relative values must be ignored).
 */
export function cacheModelDir(variant: ModelVariant = DEFAULT_MODEL_VARIANT, env: Env = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const cacheRoot = xdg?.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(cacheRoot, 'earshot', 'models', MODEL_CACHE_NAME, variant);
}

/** The model directory when no flag and no config say otherwise: `EARSHOT_MODEL` if set, else the cache. */
export function defaultModelDir(variant: ModelVariant = DEFAULT_MODEL_VARIANT, env: Env = process.env): string {
  const fromEnv = env[MODEL_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  return cacheModelDir(variant, env);
}

export interface ResolveModelDirOptions {
  /** The `--model` / `--dir` command-line flag. */
  model?: string;
  variant?: ModelVariant;
  /** `model.dir` from the config file (the caller has already loaded and validated the config). */
  configDir?: string;
  /** For tests; defaults to process.env. */
  env?: Env;
}

/**
 * Which model directory to use. Precedence, first non-empty wins:
 *   1. the command-line flag (`opts.model`),
 *   2. the `EARSHOT_MODEL` environment variable,
 *   3. the config file's `model.dir` (`opts.configDir`),
 *   4. the cache default `$XDG_CACHE_HOME/earshot/models/phi-4-multimodal-instruct-onnx/<variant>`
 *      (`~/.cache/...` without XDG_CACHE_HOME).
 * The environment beats the config file so one deployment's config can be reused with another model copy.
 * Relative paths are resolved against the current working directory. Nothing is checked on disk here.
 */
export function resolveModelDir(opts: ResolveModelDirOptions = {}): string {
  const env = opts.env ?? process.env;
  const variant = opts.variant ?? DEFAULT_MODEL_VARIANT;
  if (opts.model !== undefined && opts.model.trim() !== '') return resolve(opts.model);
  const fromEnv = env[MODEL_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  if (opts.configDir !== undefined && opts.configDir.trim() !== '') return resolve(opts.configDir);
  return cacheModelDir(variant, env);
}
