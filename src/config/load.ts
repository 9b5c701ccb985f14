import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { EarshotError } from '../errors.ts';
import { configSchema, type EarshotConfig } from './schema.ts';

type Section = Record<string, unknown>;
type PartialConfig = Record<string, Section>;

const ENV_PREFIX = 'EARSHOT_';
/** Short names for the options people set most. */
const ENV_ALIASES: Record<string, [string, string]> = {
  EARSHOT_HOST: ['server', 'host'],
  EARSHOT_PORT: ['server', 'port'],
  EARSHOT_LOG_LEVEL: ['log', 'level'],
  EARSHOT_MODEL: ['model', 'dir'],
  EARSHOT_STORE: ['store', 'path'],
};
/** EARSHOT_* variables that are read elsewhere and are not config options. */
// EARSHOT_API_KEYS (comma-separated keys) is read by the Authenticator, which hashes the keys at once;
// EARSHOT_ENGINE_URL / EARSHOT_ENGINE_API_KEY are read by `earshot serve` into engine.remote;
// EARSHOT_TTS_URL / EARSHOT_TTS_API_KEY are read by `earshot serve` into tts.remote;
// EARSHOT_DEBUG=1 makes CLI failures print their stack (cli/cli_failure.ts).
const ENV_NOT_CONFIG = new Set([
  'EARSHOT_FIXTURE_CACHE',
  'EARSHOT_API_KEYS',
  'EARSHOT_ENGINE_URL',
  'EARSHOT_ENGINE_API_KEY',
  'EARSHOT_TTS_URL',
  'EARSHOT_TTS_API_KEY',
  'EARSHOT_DEBUG',
]);

/** `EARSHOT_<SECTION>_<KEY>` for every leaf of the schema, e.g. EARSHOT_VAD_SILENCE_DURATION_MS. */
export function envNames(): Map<string, [string, string]> {
  const names = new Map<string, [string, string]>(Object.entries(ENV_ALIASES));
  for (const [section, schema] of Object.entries(configSchema.shape)) {
    const inner = unwrapObject(schema);
    for (const key of Object.keys(inner.shape))
      names.set(`${ENV_PREFIX}${section}_${key}`.toUpperCase(), [section, key]);
  }
  return names;
}

function unwrapObject(schema: z.ZodType): z.ZodObject {
  let s: z.ZodType = schema;
  while (!(s instanceof z.ZodObject))
    s = (s as unknown as { _zod: { def: { innerType: z.ZodType } } })._zod.def.innerType;
  return s;
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function merge(...layers: PartialConfig[]): PartialConfig {
  const out: PartialConfig = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) {
      out[section] =
        values !== null && typeof values === 'object' && !Array.isArray(values)
          ? { ...(out[section] ?? {}), ...values }
          : values;
    }
  }
  return out;
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** From CLI flags: highest precedence. */
  overrides?: PartialConfig;
}

/**
 * Defaults < JSON file (--config) < EARSHOT_* environment < CLI flags. Every problem in every source is
 * collected and reported together, so one run shows all the keys to fix.
 */
export function loadConfig(sources: ConfigSources = {}): EarshotConfig {
  const problems: string[] = [];
  let fromFile: PartialConfig = {};
  if (sources.file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(sources.file, 'utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        problems.push(`${sources.file}: the config file must hold a JSON object`);
      else fromFile = parsed as PartialConfig;
    } catch (err) {
      problems.push(`${sources.file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: PartialConfig = {};
  const names = envNames();
  for (const [name, raw] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || ENV_NOT_CONFIG.has(name)) continue;
    const target = names.get(name);
    if (!target) {
      problems.push(`${name}: unknown EARSHOT_ variable (expected one of ${[...names.keys()].sort().join(', ')})`);
      continue;
    }
    const [section, key] = target;
    fromEnv[section] = {
      ...(fromEnv[section] ?? {}),
      [key]: key === 'dir' || key === 'host' || key === 'path' ? raw : parseEnvValue(raw),
    };
  }
  const result = configSchema.safeParse(merge(fromFile, fromEnv, sources.overrides ?? {}));
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.join(', ')})` : '';
      problems.push(`${path || '(root)'}: ${issue.message}${keys}`);
    }
  }
  if (problems.length > 0) {
    throw new EarshotError('E_CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return result.data!;
}
