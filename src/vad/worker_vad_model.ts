// VadModel whose Silero runs happen in a worker thread (vad_worker.ts), and a pool of them. The batcher is
// unchanged: it awaits runBatch per batch; windows and states are packed here, sent across (transferred,
// not copied), and the states updated here once the result is back. If the worker dies, the batches in
// flight fail with E_VAD_MODEL (their streams report it) and the next batch starts a new worker.

import { Worker } from 'node:worker_threads';
import { EarshotError } from '../errors.ts';
import {
  checkBatchOutput,
  newSileroState,
  packBatch,
  unpackBatch,
  type SileroState,
  type VadModel,
} from './silero_model.ts';
import type { VadWorkerMessage, VadWorkerRequest } from './vad_worker.ts';

interface Pending {
  resolve: (out: { probabilities: Float32Array; hn: Float32Array; cn: Float32Array }) => void;
  reject: (error: unknown) => void;
}

export class WorkerVadModel implements VadModel {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private inFlight = 0;
  private disposed = false;

  private constructor(private readonly modelPath?: string) {}

  /** Starts the worker and waits until it has loaded the model (E_VAD_MODEL when it cannot). */
  static async start(modelPath?: string): Promise<WorkerVadModel> {
    const model = new WorkerVadModel(modelPath);
    await model.ensureWorker();
    return model;
  }

  createState(): SileroState {
    return newSileroState();
  }

  /** Batches given to runBatch and not yet answered (counted from the call, before the worker is ready). */
  get batchesInFlight(): number {
    return this.inFlight;
  }

  async runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    if (this.disposed) throw new EarshotError('E_VAD_MODEL', 'The Silero VAD model was disposed.');
    if (windows.length === 0) return new Float32Array(0);
    this.inFlight++;
    try {
      return await this.runPacked(windows, states);
    } finally {
      this.inFlight--;
    }
  }

  private async runPacked(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    const packed = packBatch(windows, states);
    // Read before the buffers are transferred (detached) to the worker.
    const stateFloats = packed.h.length;
    await this.ensureWorker();
    const worker = this.worker!;
    const id = ++this.nextId;
    const out = await new Promise<{ probabilities: Float32Array; hn: Float32Array; cn: Float32Array }>(
      (resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        this.updateRef();
        const request: VadWorkerRequest = { id, ...packed };
        worker.postMessage(request, [
          packed.input.buffer as ArrayBuffer,
          packed.h.buffer as ArrayBuffer,
          packed.c.buffer as ArrayBuffer,
        ]);
      },
    );
    const batchOut = { ...out, batch: windows.length };
    checkBatchOutput(batchOut, stateFloats);
    unpackBatch(states, batchOut);
    return out.probabilities;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failPending(new EarshotError('E_VAD_MODEL', 'The Silero VAD model was disposed.'));
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private ensureWorker(): Promise<void> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(new URL('./vad_worker_bootstrap.mjs', import.meta.url), {
      workerData: { modelPath: this.modelPath },
    });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: VadWorkerMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'load_failed') reject(new EarshotError('E_VAD_MODEL', message.message));
        else {
          const pending = this.pending.get(message.id);
          this.pending.delete(message.id);
          this.updateRef();
          if (message.type === 'result') pending?.resolve(message);
          else pending?.reject(new EarshotError('E_VAD_MODEL', message.message));
        }
      });
      worker.on('error', (error) =>
        reject(new EarshotError('E_VAD_MODEL', `The VAD worker failed: ${error.message}`, { cause: error })),
      );
      worker.on('exit', (code) => {
        if (this.worker !== worker) return;
        // Batches in flight are lost; the next one starts a new worker.
        this.worker = undefined;
        this.ready = undefined;
        reject(new EarshotError('E_VAD_MODEL', `The VAD worker exited (code ${code}) before loading the model.`));
        this.failPending(
          new EarshotError('E_VAD_MODEL', `The VAD worker exited (code ${code}); the batches it was running are lost.`),
        );
      });
    });
    // Referenced only while something waits on it (loading, batches in flight): an idle VAD worker never
    // keeps the process alive; servers and tests own their lifetimes.
    void ready.then(
      () => this.updateRef(),
      () => undefined,
    );
    return ready;
  }

  /** Ends the worker as a crash would (fault tests): batches in flight fail, the next starts a new one. */
  async killWorkerForTest(): Promise<void> {
    await this.worker?.terminate();
  }

  private updateRef(): void {
    if (this.pending.size > 0) this.worker?.ref();
    else this.worker?.unref();
  }

  private failPending(error: EarshotError): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}

/**
 * Several VAD worker threads (vad.worker_threads): each batch goes to the worker with the fewest batches in
 * flight. The batcher never has one stream in two batches at once, so the streams' states stay in order
 * whichever worker runs them. A dead worker fails only its own batches and restarts on its next one.
 */
export class WorkerVadPool implements VadModel {
  private constructor(private readonly workers: WorkerVadModel[]) {}

  static async start(threads: number, modelPath?: string): Promise<WorkerVadPool> {
    if (!Number.isInteger(threads) || threads < 1)
      throw new EarshotError('E_CONFIG_INVALID', `VAD worker threads must be a positive integer, got ${threads}`);
    const workers = await Promise.all(Array.from({ length: threads }, () => WorkerVadModel.start(modelPath)));
    return new WorkerVadPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  createState(): SileroState {
    return newSileroState();
  }

  runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    let least = this.workers[0];
    for (const worker of this.workers) if (worker.batchesInFlight < least.batchesInFlight) least = worker;
    return least.runBatch(windows, states);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.dispose()));
  }

  /** Ends one worker as a crash would (fault tests). */
  async killWorkerForTest(index: number): Promise<void> {
    await this.workers[index]?.killWorkerForTest();
  }
}

const shared = new Map<number, Promise<VadModel>>();

/** The process's pool of `threads` VAD workers, shared by every server in it (like the in-thread shared model). */
export function getSharedWorkerVadModel(threads = 1): Promise<VadModel> {
  let model = shared.get(threads);
  if (!model) {
    model = WorkerVadPool.start(threads);
    shared.set(threads, model);
    model.catch(() => shared.delete(threads));
  }
  return model;
}
