import { EarshotError, isEarshotError } from '../errors.ts';
import type { EngineLogger } from './engine_logger.ts';
import type { ModelVariant } from './phi4mm/model_location.ts';
import { resolveModelFiles } from './phi4mm/model_dir.ts';
import type { FetchImpl } from './phi4mm/pull/net.ts';
import { createProgressReporter, formatBytes, type PullProgressEvent } from './phi4mm/pull/progress.ts';
import { pullModel } from './phi4mm/pull/pull.ts';
import type { RetryPolicy } from './phi4mm/pull/retry.ts';

// First start without a model, the way Ollama and faster-whisper behave: the server listens at once, the
// model is downloaded in the background with progress on the terminal, then loaded, with no restart. What
// needs no model (turn detection, the HTTP API) works meanwhile; /readyz says how far it got.

/** What /readyz reports about the model. */
export type ModelReadiness =
  | { status: 'ready' }
  | { status: 'model_missing'; reason: string }
  | { status: 'downloading'; percent: number; downloaded_bytes: number; total_bytes: number }
  | { status: 'loading' }
  | { status: 'model_invalid'; reason: string };

/** How `earshot serve` fetches a missing model; programmatic servers (tests, benchmarks) pass none. */
export interface AutoPullSettings {
  variant: ModelVariant;
  /** Hub base url; default HF_ENDPOINT from `env`, else https://huggingface.co. */
  endpoint?: string;
  /** HF_ENDPOINT / HF_TOKEN source. */
  env: Record<string, string | undefined>;
  /** Where the progress bar (TTY) or progress lines go, and the one offline message. */
  progressStream: NodeJS.WritableStream & { isTTY?: boolean };
  fetchImpl?: FetchImpl;
  /** Short timeouts and retry delays for tests; production leaves the pull defaults. */
  connectTimeoutMs?: number;
  stallTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** Result of loading the engine, as the composition root reports it. */
export interface LoadOutcome<E> {
  engine: E | null;
  unavailable?: EarshotError;
}

/** True when the directory lacks genai_config.json or any file the engine needs (a pull would complete it). */
export function modelNeedsPull(dir: string): boolean {
  try {
    return resolveModelFiles(dir).missing.length > 0;
  } catch (err) {
    // A genai_config.json that exists but is broken is not fixed by a pull that skips complete files.
    return isEarshotError(err) && err.code === 'E_MODEL_MISSING';
  }
}

export interface ModelProvisionerOptions<E> {
  dir: string;
  settings: AutoPullSettings;
  log: EngineLogger;
  /** Loads the engine from `dir` once the files are complete (never throws: failures come back as unavailable). */
  load(): Promise<LoadOutcome<E>>;
}

/**
 * Downloads then loads the model once, in the background. `status` is read by /readyz; `whileMissing` is the
 * error given to sessions opened before the engine is there; `run` resolves with the load outcome.
 */
export class ModelProvisioner<E> {
  private current: ModelReadiness = { status: 'downloading', percent: 0, downloaded_bytes: 0, total_bytes: 0 };
  private readonly controller = new AbortController();
  private allBytes = 0;
  private completeBytes = 0;

  constructor(private readonly opts: ModelProvisionerOptions<E>) {}

  get status(): ModelReadiness {
    return this.current;
  }

  get whileMissing(): EarshotError {
    return new EarshotError(
      'E_MODEL_MISSING',
      `The model is being downloaded into ${this.opts.dir} (progress: GET /readyz); sessions opened once it is loaded use it.`,
    );
  }

  /** Aborts a download in progress (server shutdown); the .part files stay for the next start. */
  stop(): void {
    this.controller.abort(new Error('server shutting down'));
  }

  async run(): Promise<LoadOutcome<E>> {
    const { dir, settings, log } = this.opts;
    const reporter = createProgressReporter({ stream: settings.progressStream });
    log.info(
      { dir, variant: settings.variant },
      'no model: downloading it (earshot serve --no-pull or model.auto_pull=false turns this off)',
    );
    try {
      await pullModel({
        variant: settings.variant,
        dir,
        endpoint: settings.endpoint,
        env: settings.env,
        signal: this.controller.signal,
        fetchImpl: settings.fetchImpl,
        connectTimeoutMs: settings.connectTimeoutMs,
        stallTimeoutMs: settings.stallTimeoutMs,
        retry: settings.retry,
        onProgress: (event) => {
          reporter.onProgress(event);
          this.track(event);
        },
      });
    } catch (err) {
      reporter.stop();
      const pullError = isEarshotError(err) ? err : new EarshotError('E_MODEL_PULL', String(err), { cause: err });
      if (pullError.code !== 'E_ABORTED') {
        // Said once, in words on the terminal and as one log record; the server keeps serving without a model.
        settings.progressStream.write(
          `earshot: the model could not be downloaded; the server runs without it.\n${pullError.message}\n`,
        );
        log.warn({ code: pullError.code, dir }, 'model download failed: serving without a model');
      }
      const unavailable = new EarshotError(
        'E_MODEL_MISSING',
        `No model at ${dir}: the download failed (${firstLine(pullError.message)}).`,
      );
      this.current = { status: 'model_missing', reason: unavailable.message };
      return { engine: null, unavailable };
    }
    this.current = { status: 'loading' };
    log.info({ dir }, 'model downloaded: loading it');
    const outcome = await this.opts.load();
    this.current =
      outcome.engine !== null
        ? { status: 'ready' }
        : {
            status: outcome.unavailable?.code === 'E_MODEL_MISSING' ? 'model_missing' : 'model_invalid',
            reason: outcome.unavailable?.message ?? 'the model could not be loaded',
          };
    return outcome;
  }

  private track(event: PullProgressEvent): void {
    if (event.type === 'plan') {
      this.allBytes = event.allBytes;
      // Files already complete on disk count as downloaded.
      this.completeBytes = event.allBytes - event.totalBytes;
      this.log(`downloading ${formatBytes(event.totalBytes - event.doneBytes)} of ${event.folder} into ${event.dir}`);
    }
    if (event.type === 'plan' || event.type === 'bytes' || event.type === 'done') {
      const downloaded = Math.min(this.allBytes, this.completeBytes + event.doneBytes);
      const percent = this.allBytes > 0 ? Math.floor((downloaded * 100) / this.allBytes) : 100;
      this.current = { status: 'downloading', percent, downloaded_bytes: downloaded, total_bytes: this.allBytes };
    }
  }

  private log(message: string): void {
    this.opts.log.info({ dir: this.opts.dir }, message);
  }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.endsWith('.') ? line.slice(0, -1) : line;
}

/**
 * The model's part of /readyz, without reasons or paths (the probe is unauthenticated): a provisioning in
 * progress speaks for itself; otherwise a missing engine is `model_missing` / `model_invalid` by its error
 * code, and a loaded engine whose worker is restarting is `loading`.
 */
export function modelReadiness(
  engine: { isReady?: boolean } | null,
  unavailable: EarshotError | undefined,
  provisioner: ModelProvisioner<unknown> | null,
): { status: ModelReadiness['status']; percent?: number; downloaded_bytes?: number; total_bytes?: number } {
  const provisioning = provisioner?.status;
  if (provisioning !== undefined && provisioning.status !== 'ready' && engine === null) {
    const { status } = provisioning;
    return provisioning.status === 'downloading' ? { ...provisioning } : { status };
  }
  if (engine === null)
    return {
      status: unavailable === undefined || unavailable.code === 'E_MODEL_MISSING' ? 'model_missing' : 'model_invalid',
    };
  return { status: (engine.isReady ?? true) ? 'ready' : 'loading' };
}
