// EngineHost: the engine as the server sees it (design decision 5). A worker_threads worker owns the
// ONNX sessions (onnxruntime's run() blocks the thread that calls it); this main-thread object
// implements SpeechEngine, and its sessions implement EngineSession, over messages. If the worker dies,
// every session on it fails with E_ENGINE_WORKER_EXITED, a new worker is started, and new sessions work.
// Model load errors (E_MODEL_MISSING / E_MODEL_INVALID) are kept in `loadError` and fail every request.
//
// Stopping a worker never uses worker.terminate() while it may be inside onnxruntime: terminating a
// thread during a native run() aborts the WHOLE process ("terminate called after throwing an instance
// of 'Napi::Error'", reproduced on the tiny fixture on the first try). The worker is asked to stop by
// message instead (handled between runs by construction) and exits by itself; terminate() is only the
// last resort after WORKER_EXIT_TIMEOUT_MS.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EarshotError } from '../errors.ts';
import type { AudioHandle, EngineSession, SpeechEngine } from './engine_session.ts';
import { silentLogger, type EngineLogger } from './engine_logger.ts';
import { HostSession, type SessionTransport } from './engine_host_session.ts';
import type { EngineInfo } from './phi4_engine.ts';
import type { FaultSpec } from './fault_injection.ts';
import {
  deserializeError,
  type FaultReport,
  type HostRequest,
  type WorkerSessionState,
  type TotalsResult,
  type WorkerInit,
  type WorkerMessage,
} from './worker_protocol.ts';

/** What the worker is started with (WorkerInit), plus what stays on the main thread. */
export interface EngineHostOptions extends WorkerInit {
  /**
   * How long close() / terminateWorker() wait for the worker to exit by itself (it does so between
   * graph runs) before the last resort, worker.terminate() (default WORKER_EXIT_TIMEOUT_MS).
   */
  workerExitTimeoutMs?: number;
  log?: EngineLogger;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onDelta?: (text: string, tokenIds: number[]) => void;
  onState?: (state: WorkerSessionState) => void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** How long close() / terminateWorker() wait for the worker to exit by itself before terminate(). */
export const WORKER_EXIT_TIMEOUT_MS = 10_000;

/**
 * Intra-op threads when the caller gives none: every core but one, so the engine never takes every
 * core from the server's event loop (VAD, sockets). onnxruntime's own default is one per core.
 */
export function defaultIntraOpThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** One worker and what lives on it. */
class WorkerGeneration implements SessionTransport {
  readonly pending = new Map<number, Pending>();
  readonly sessions = new Set<HostSession>();
  readonly ready: Promise<EngineInfo>;
  info: EngineInfo | undefined;
  loadError: EarshotError | undefined;
  /** No longer serves requests (failed, closing or gone). */
  exited = false;
  /** The thread has really exited; `exit` resolves with its exit code. */
  threadExited = false;
  readonly exit: Promise<number>;
  private nextId = 0;
  private settleReady!: { resolve: (info: EngineInfo) => void; reject: (error: EarshotError) => void };
  private settleExit!: (code: number) => void;

  constructor(
    readonly worker: Worker,
    private readonly log: EngineLogger,
  ) {
    this.ready = new Promise<EngineInfo>((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.exit = new Promise<number>((resolve) => (this.settleExit = resolve));
  }

  markThreadExited(code: number): void {
    this.threadExited = true;
    this.settleExit(code);
  }

  /**
   * Asks the thread to stop ('shutdown': cleanly, 'crash': exit code 1 at once) and waits for its exit,
   * for at most `timeoutMs`; only then is it terminated. Resolves with how it ended.
   */
  async stop(op: 'shutdown' | 'crash', timeoutMs: number): Promise<'exited' | 'terminated'> {
    if (this.threadExited) return 'exited';
    // Keep the process alive until the thread is gone: a process exiting with a worker mid-run
    // tears it down like terminate() would.
    this.worker.ref();
    this.worker.postMessage({ op } satisfies HostRequest);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.exit.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'exited') return 'exited';
    this.log.error({ op, timeoutMs }, 'engine worker did not exit in time; terminating it');
    await this.worker.terminate();
    return 'terminated';
  }

  request<T>(
    message: DistributiveOmit<HostRequest, 'id'>,
    onDelta?: (text: string, tokenIds: number[]) => void,
    onState?: (state: WorkerSessionState) => void,
  ): Promise<T> {
    if (this.exited)
      return Promise.reject(
        new EarshotError('E_ENGINE_WORKER_EXITED', 'The engine worker has stopped.', { retryable: true }),
      );
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      // Referenced only while replies are awaited, so an idle engine never keeps the process alive.
      this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onDelta, onState });
      const full = { ...message, id } as HostRequest;
      // Audio is moved, not copied: the caller hands the samples over.
      const transfer = full.op === 'encodeAudio' ? [full.pcm.buffer as ArrayBuffer] : [];
      this.worker.postMessage(full, transfer);
    });
  }

  post(message: HostRequest): void {
    if (!this.exited) this.worker.postMessage(message);
  }

  onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.info = message.info;
        this.settleReady.resolve(message.info);
        // Referenced while loading (someone may await `ready`); afterwards only while replies are awaited.
        if (this.pending.size === 0) this.worker.unref();
        return;
      case 'loadError':
        this.loadError = deserializeError(message.error);
        this.settleReady.reject(this.loadError);
        return;
      case 'log':
        this.log[message.level](message.data, message.message);
        return;
      case 'delta':
        this.pending.get(message.id)?.onDelta?.(message.text, message.tokenIds);
        return;
      case 'result':
      case 'error': {
        const p = this.pending.get(message.id);
        if (p === undefined) return;
        this.pending.delete(message.id);
        if (this.pending.size === 0 && this.info !== undefined) this.worker.unref();
        if (message.session !== undefined) p.onState?.(message.session);
        if (message.type === 'result') p.resolve(message.value);
        else p.reject(deserializeError(message.error));
      }
    }
  }

  /** The worker is gone: fail everything that was on it. */
  fail(error: EarshotError): void {
    this.exited = true;
    this.settleReady.reject(error);
    for (const s of this.sessions) s.fail(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

export class EngineHost implements SpeechEngine {
  private current: WorkerGeneration;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly workerExitTimeoutMs: number;
  private fatal: EarshotError | undefined;
  /** Workers started after a crash. */
  restarts = 0;
  private readonly log: EngineLogger;

  constructor(private readonly options: EngineHostOptions) {
    this.log = options.log ?? silentLogger;
    this.workerExitTimeoutMs = options.workerExitTimeoutMs ?? WORKER_EXIT_TIMEOUT_MS;
    this.current = this.start();
  }

  /** Resolves when the current worker has loaded the model; rejects with the load error. */
  get ready(): Promise<EngineInfo> {
    return this.fatal !== undefined ? Promise.reject(this.fatal) : this.current.ready;
  }

  get isReady(): boolean {
    return this.fatal === undefined && !this.closed && this.current.info !== undefined && !this.current.exited;
  }

  /** The model could not be loaded (E_MODEL_MISSING, E_MODEL_INVALID...): the engine serves nothing. */
  get loadError(): EarshotError | undefined {
    return this.fatal;
  }

  get info(): EngineInfo | undefined {
    return this.current.info;
  }

  async encodeAudio(pcm: Float32Array, sampleRateHz: 16000 | 8000): Promise<AudioHandle> {
    // A copy is transferred (not cloned again) to the worker; the caller's array stays usable.
    const owned = pcm.slice();
    return this.transport().request<AudioHandle>({ op: 'encodeAudio', pcm: owned, sampleRateHz });
  }

  releaseAudio(handle: AudioHandle): void {
    if (!this.closed && this.fatal === undefined) this.current.post({ op: 'releaseAudio', audioId: handle.id });
  }

  async createSession(options: { contextBudgetTokens?: number } = {}): Promise<EngineSession> {
    const generation = this.transport();
    const reply = await generation.request<{ sessionId: string; state: WorkerSessionState }>({
      op: 'createSession',
      contextBudgetTokens: options.contextBudgetTokens,
    });
    const session = new HostSession(reply.sessionId, reply.state, generation, (x) => generation.sessions.delete(x));
    generation.sessions.add(session);
    return session;
  }

  /** Totals of the current worker (live sessions, accounted KV bytes, audio handles, pending requests). */
  totals(): Promise<TotalsResult> {
    return this.transport().request<TotalsResult>({ op: 'totals' });
  }

  /**
   * Test hook: arms a one-off failure of a graph run in the worker (fault_injection.ts) and reports the
   * faults fired so far; without `fault`, only reports.
   */
  injectFault(fault?: FaultSpec): Promise<FaultReport> {
    return this.transport().request<FaultReport>({ op: 'injectFault', ...(fault ? { fault } : {}) });
  }

  /**
   * Kills the worker as a crash would (tests, operators): it exits with code 1, its sessions fail with
   * E_ENGINE_WORKER_EXITED and a new worker starts. The exit happens between graph runs (see `stop`),
   * never inside one. Resolves once the old worker is gone and the new one is starting.
   */
  async terminateWorker(): Promise<void> {
    if (this.closed) return;
    await this.current.stop('crash', this.workerExitTimeoutMs);
  }

  /**
   * Stops accepting work, cancels running generations and fails every session and queued request with
   * E_ENGINE ('The engine was closed.'), then lets the worker dispose its sessions and ORT sessions and
   * exit by itself; resolves when it has. Safe while a graph runs (a server stopping under load).
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    const generation = this.current;
    // Raises the cancel flag of every running generation (read by the worker before each step) and
    // rejects everything awaited; the replies the worker still sends are ignored.
    generation.fail(new EarshotError('E_ENGINE', 'The engine was closed.'));
    await generation.stop('shutdown', this.workerExitTimeoutMs);
  }

  private transport(): WorkerGeneration {
    if (this.closed) throw new EarshotError('E_ENGINE', 'The engine was closed.');
    if (this.fatal !== undefined) throw this.fatal;
    return this.current;
  }

  private start(): WorkerGeneration {
    // Everything but the main-thread-only options goes to the worker (the logger cannot be cloned).
    const { log: _log, workerExitTimeoutMs: _exitTimeout, ...workerOptions } = this.options;
    const init: WorkerInit = {
      ...workerOptions,
      intraOpNumThreads: workerOptions.intraOpNumThreads ?? defaultIntraOpThreads(),
    };
    const worker = new Worker(new URL('./engine_worker_bootstrap.mjs', import.meta.url), { workerData: init });
    const generation = new WorkerGeneration(worker, this.log);
    generation.ready.then(
      () => undefined,
      (error: EarshotError) => {
        if (this.current !== generation || this.closed || generation.info !== undefined) return;
        // Failed before it was ever ready: a load error is permanent, so no restart loop.
        this.fatal = error;
        this.log.error(
          { code: error.code, modelDir: init.modelDir, error: error.message },
          'engine model could not be loaded',
        );
      },
    );
    worker.on('message', (m: WorkerMessage) => generation.onMessage(m));
    worker.on('error', (error) => this.log.error({ error: error.message, stack: error.stack }, 'engine worker error'));
    worker.on('exit', (code) => {
      this.onExit(generation, code);
      generation.markThreadExited(code);
    });
    return generation;
  }

  private onExit(generation: WorkerGeneration, code: number): void {
    if (generation.exited) return;
    const wasReady = generation.info !== undefined;
    const error =
      generation.loadError ??
      new EarshotError(
        'E_ENGINE_WORKER_EXITED',
        wasReady
          ? `The engine worker exited (code ${code}); its sessions are lost.`
          : `The engine worker exited (code ${code}) while loading the model.`,
        { retryable: wasReady },
      );
    generation.fail(error);
    if (this.closed || this.current !== generation) return;
    if (!wasReady) {
      this.fatal ??= error;
      return;
    }
    this.log.error(
      { code, sessions: generation.sessions.size, restarts: this.restarts + 1 },
      'engine worker exited; starting a new one',
    );
    this.restarts++;
    this.current = this.start();
  }
}

/** The engine for the server: a worker-hosted Phi-4 engine. Check `ready` / `loadError` before serving. */
export function createEngineHost(options: EngineHostOptions): EngineHost {
  return new EngineHost(options);
}
