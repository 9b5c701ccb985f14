import { availableParallelism } from 'node:os';
import { EarshotError, isEarshotError } from '../../errors.ts';
import type { KokoroConfig } from '../../config/kokoro_schema.ts';
import type { FetchImpl } from '../../engine/phi4mm/pull/net.ts';
import type { PullProgressEvent } from '../../engine/phi4mm/pull/progress.ts';
import type { RetryPolicy } from '../../engine/phi4mm/pull/retry.ts';
import type { Synthesizer } from '../synthesizer.ts';
import { KokoroRuntime } from './kokoro_runtime.ts';
import { KokoroSynthesizer, type KokoroFallbackReason } from './kokoro_synthesizer.ts';
import { resolveKokoroDir } from './location.ts';
import {
  kokoroFolderIncomplete,
  readKokoroFolder,
  readVoice,
  STYLE_DIM,
  type KokoroFolder,
  type KokoroPrecision,
} from './model_folder.ts';
import { pullKokoro } from './pull.ts';
import { padIds, styleRowIndex, tokenize } from './tokenizer.ts';

// The hook tts/select.ts calls for `tts.engine` auto or kokoro: a ready Kokoro synthesizer, or null when its
// files are absent and cannot be fetched (the caller then uses espeak). A folder that is present but wrong
// is an error (E_MODEL_INVALID / E_MODEL_MISSING), not a silent fallback.

/** Phonemes of the load-time speed check ("The quick brown fox jumps over the lazy dog."), repeated to length. */
const CHECK_PHONEMES = 'ðə kwˈɪk bɹˈWn fˈɑːks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ. ';

export interface KokoroLog {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface OpenKokoroDeps {
  log?: KokoroLog;
  /** The espeak-ng program that makes Kokoro's phonemes (tts.espeak.program; default espeak-ng on PATH). */
  espeakProgram?: string;
  /** The voice that speaks when Kokoro is slower than real time (espeak). */
  fallback?: Synthesizer;
  /** Counts answers handed to the fallback (earshot_tts_kokoro_fallbacks_total). */
  countFallback?: (reason: KokoroFallbackReason) => void;
  /** The fallback's voice for a Kokoro voice id. */
  fallbackVoice?: (kokoroVoice: string) => string;
  env?: Record<string, string | undefined>;
  /** First-use download: hub seams for tests, progress for the terminal. */
  endpoint?: string;
  fetchImpl?: FetchImpl;
  onPullProgress?: (event: PullProgressEvent) => void;
  pullTimeouts?: { connectTimeoutMs?: number; stallTimeoutMs?: number; retry?: Partial<RetryPolicy> };
  signal?: AbortSignal;
}

function speedCheckInput(folder: KokoroFolder, phonemes: number): { ids: BigInt64Array; style: Float32Array } {
  const text = CHECK_PHONEMES.repeat(Math.ceil(phonemes / CHECK_PHONEMES.length) + 1);
  const ids = tokenize(text, folder.vocab).ids.slice(0, phonemes);
  const padded = padIds(ids.length > 0 ? ids : [...folder.vocab.values()].filter((id) => id !== 0).slice(0, 1));
  const firstVoice = folder.voices.values().next().value as string;
  const row = styleRowIndex(padded.length);
  return { ids: padded, style: readVoice(firstVoice).slice(row * STYLE_DIM, (row + 1) * STYLE_DIM) };
}

/** Fetches the folder when it is incomplete and allowed to; false when it stays unavailable. */
async function ensureFiles(dir: string, config: KokoroConfig, deps: OpenKokoroDeps): Promise<boolean> {
  if (!kokoroFolderIncomplete(dir)) return true;
  if (!config.auto_pull) {
    deps.log?.info({ dir }, 'kokoro: no model folder and tts.kokoro.auto_pull is off');
    return false;
  }
  try {
    deps.log?.info({ dir }, 'kokoro: fetching the model files (first use)');
    await pullKokoro({
      dir,
      precisions: config.pull_precisions,
      env: deps.env,
      endpoint: deps.endpoint,
      fetchImpl: deps.fetchImpl,
      onProgress: deps.onPullProgress,
      signal: deps.signal,
      ...deps.pullTimeouts,
    });
    return true;
  } catch (err) {
    if (!isEarshotError(err) || err.code === 'E_ABORTED') throw err;
    deps.log?.warn(
      { dir, code: err.code, error: err.message },
      'kokoro: the model files cannot be fetched; no Kokoro voice',
    );
    return false;
  }
}

export async function openKokoroSynthesizer(
  config: KokoroConfig,
  deps: OpenKokoroDeps = {},
): Promise<Synthesizer | null> {
  const dir = resolveKokoroDir(config.dir, deps.env ?? process.env);
  if (!(await ensureFiles(dir, config, deps))) return null;
  const folder = readKokoroFolder(dir);
  const variants =
    config.precision === 'auto'
      ? folder.variants
      : folder.variants.filter((v) => v.precision === (config.precision as KokoroPrecision));
  if (variants.length === 0) {
    throw new EarshotError(
      'E_MODEL_MISSING',
      `tts.kokoro.precision is ${config.precision} but ${dir}/onnx has only ${folder.variants.map((v) => v.precision).join(', ')}.`,
    );
  }
  const check = speedCheckInput(folder, config.speed_check_phonemes);
  const runtime = await KokoroRuntime.start({
    variants,
    checkIds: check.ids,
    checkStyle: check.style,
    maxQueuedRuns: config.max_queued_runs,
    intraOpNumThreads: config.intra_op_threads ?? Math.max(1, availableParallelism() - 1),
    interOpNumThreads: 1,
  });
  deps.log?.info(
    { dir, precision: runtime.precision, checks: runtime.checks, skipped: folder.skipped },
    'kokoro: precision chosen by the load-time speed check',
  );
  return new KokoroSynthesizer(
    folder,
    runtime,
    {
      maxRtf: config.max_rtf,
      fallbackHoldMs: config.fallback_hold_ms,
      maxPhonemesPerRun: config.max_phonemes_per_run,
      espeakProgram: deps.espeakProgram ?? 'espeak-ng',
    },
    { fallback: deps.fallback, countFallback: deps.countFallback, fallbackVoice: deps.fallbackVoice, log: deps.log },
  );
}
