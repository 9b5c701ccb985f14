import { Worker } from 'node:worker_threads';
import { EarshotError } from '../../errors.ts';
import { deserializeError } from '../../engine/worker_protocol.ts';
import type { KokoroPrecision, KokoroVariant } from './model_folder.ts';
import type { KokoroReply, KokoroRequest, KokoroWorkerInit, PrecisionCheck } from './worker_messages.ts';

// The main thread's handle on the Kokoro worker: a bounded FIFO of graph runs with one in flight, so a
// cancelled answer's queued runs are dropped here and never reach onnxruntime.

export interface KokoroRuntimeOptions {
  variants: KokoroVariant[];
  checkIds: BigInt64Array;
  checkStyle: Float32Array;
  intraOpNumThreads: number;
  interOpNumThreads: number;
  /** Runs waiting (not counting the one running) before new ones fail with E_ENGINE_BUSY. */
  maxQueuedRuns: number;
}

export interface RunResult {
  waveform: Float32Array;
  runMs: number;
}

interface Pending {
  id: number;
  ids: BigInt64Array;
  style: Float32Array;
  speed: number;
  signal?: AbortSignal;
  resolve(result: RunResult): void;
  reject(error: unknown): void;
}

export class KokoroRuntime {
  private readonly queue: Pending[] = [];
  private running: Pending | undefined;
  private nextId = 1;
  private failure: EarshotError | undefined;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly precision: KokoroPrecision,
    readonly checks: PrecisionCheck[],
    private readonly maxQueuedRuns: number,
  ) {
    worker.on('message', (reply: KokoroReply) => this.onReply(reply));
    worker.on('error', (err) =>
      this.fail(new EarshotError('E_TTS_ENGINE', `The Kokoro worker failed: ${err.message}`, { cause: err })),
    );
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new EarshotError('E_TTS_ENGINE', `The Kokoro worker stopped (exit code ${code}).`));
    });
  }

  /** Starts the worker and waits for its speed check; rejects with the folder's error if no variant works. */
  static start(o: KokoroRuntimeOptions): Promise<KokoroRuntime> {
    const init: KokoroWorkerInit = {
      variants: o.variants,
      checkIds: o.checkIds,
      checkStyle: o.checkStyle,
      intraOpNumThreads: o.intraOpNumThreads,
      interOpNumThreads: o.interOpNumThreads,
    };
    const worker = new Worker(new URL('./kokoro_worker_bootstrap.mjs', import.meta.url), { workerData: init });
    return new Promise((resolve, reject) => {
      const onFirst = (reply: KokoroReply): void => {
        if (reply.type === 'ready') {
          cleanup();
          resolve(new KokoroRuntime(worker, reply.precision, reply.checks, o.maxQueuedRuns));
        } else if (reply.type === 'loadError') {
          cleanup();
          void worker.terminate();
          reject(deserializeError(reply.error));
        }
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new EarshotError('E_TTS_ENGINE', `The Kokoro worker stopped while loading (exit code ${code}).`));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(
          new EarshotError('E_TTS_ENGINE', `The Kokoro worker failed while loading: ${err.message}`, { cause: err }),
        );
      };
      const cleanup = (): void => {
        worker.off('message', onFirst);
        worker.off('exit', onExit);
        worker.off('error', onError);
      };
      worker.on('message', onFirst);
      worker.once('exit', onExit);
      worker.once('error', onError);
    });
  }

  /** Queued plus running graph runs. */
  get depth(): number {
    return this.queue.length + (this.running === undefined ? 0 : 1);
  }

  run(ids: BigInt64Array, style: Float32Array, speed: number, signal?: AbortSignal): Promise<RunResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (signal?.aborted) return Promise.reject(new EarshotError('E_ABORTED', 'Synthesis cancelled.'));
    if (this.running !== undefined && this.queue.length >= this.maxQueuedRuns) {
      return Promise.reject(
        new EarshotError(
          'E_ENGINE_BUSY',
          `The Kokoro queue is full (${this.maxQueuedRuns} runs waiting, tts.kokoro.max_queued_runs).`,
          { retryable: true },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { id: this.nextId++, ids, style, speed, signal, resolve, reject };
      signal?.addEventListener('abort', () => this.dropQueued(pending), { once: true });
      this.queue.push(pending);
      this.pump();
    });
  }

  private dropQueued(pending: Pending): void {
    const index = this.queue.indexOf(pending);
    if (index < 0) return; // running: its result is ignored by the caller
    this.queue.splice(index, 1);
    pending.reject(new EarshotError('E_ABORTED', 'Synthesis cancelled.'));
  }

  private pump(): void {
    if (this.running !== undefined || this.failure !== undefined) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.running = next;
    const request: KokoroRequest = {
      op: 'synthesize',
      id: next.id,
      ids: next.ids,
      style: next.style,
      speed: next.speed,
    };
    this.worker.postMessage(request);
  }

  private onReply(reply: KokoroReply): void {
    const current = this.running;
    if (current === undefined || !('id' in reply) || reply.id !== current.id) return;
    this.running = undefined;
    if (reply.type === 'audio') current.resolve({ waveform: reply.waveform, runMs: reply.runMs });
    else if (reply.type === 'error') current.reject(deserializeError(reply.error));
    this.pump();
  }

  private fail(error: EarshotError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const all = [...(this.running === undefined ? [] : [this.running]), ...this.queue.splice(0)];
    this.running = undefined;
    for (const p of all) p.reject(error);
  }

  async close(): Promise<void> {
    if (this.failure === undefined) this.fail(new EarshotError('E_ABORTED', 'The Kokoro synthesizer is closed.'));
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ op: 'close' } satisfies KokoroRequest);
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
