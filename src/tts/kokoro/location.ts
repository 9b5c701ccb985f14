import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

// Where the Kokoro files live when no config says: beside the Phi-4 model's cache folder.

export const KOKORO_DIR_ENV = 'EARSHOT_KOKORO';
export const KOKORO_CACHE_NAME = 'kokoro-82m-v1.0-onnx';
export const KOKORO_REPO_ID = 'onnx-community/Kokoro-82M-v1.0-ONNX';

type Env = Record<string, string | undefined>;

/** `EARSHOT_KOKORO` if set, else `$XDG_CACHE_HOME/earshot/models/kokoro-82m-v1.0-onnx` (or ~/.cache/...). */
export function defaultKokoroDir(env: Env = process.env): string {
  const fromEnv = env[KOKORO_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  const xdg = env.XDG_CACHE_HOME;
  const cacheRoot = xdg?.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(cacheRoot, 'earshot', 'models', KOKORO_CACHE_NAME);
}

/** Like the Phi-4 model folder: EARSHOT_KOKORO beats the config's `tts.kokoro.dir`, which beats the cache. */
export function resolveKokoroDir(configDir: string | undefined, env: Env = process.env): string {
  const fromEnv = env[KOKORO_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);
  if (configDir !== undefined && configDir.trim() !== '') return resolve(configDir);
  return defaultKokoroDir(env);
}
