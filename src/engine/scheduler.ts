// Step scheduler of the engine worker: many sessions share one model, so their work is cut into steps
// (one prefill chunk, one decode step, one speech-encoder chunk) and the steps of different lanes run
// round robin, one at a time. A lane is a session (or one audio encoding): jobs of one lane run in
// order, jobs of different lanes interleave step by step, so a long answer never stalls another
// connection's captions. Pending work is bounded: past the bound a job is refused at once with
// E_ENGINE_BUSY instead of queueing without end.

import { EarshotError } from '../errors.ts';

/** A job is an async generator; every `yield` is a step boundary where other lanes may run. */
export type StepJob<T> = () => AsyncGenerator<void, T, void>;

export interface SubmitOptions {
  /** Not counted against (nor refused by) the bound: dispose and release jobs free resources. */
  exempt?: boolean;
}

interface QueuedJob {
  start: StepJob<unknown>;
  iterator?: AsyncGenerator<void, unknown, void>;
  exempt: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface SchedulerStats {
  /** Jobs queued or running, bound-counted ones only. */
  pending: number;
  lanes: number;
  /** Steps run since creation. */
  steps: number;
}

export const DEFAULT_MAX_PENDING_REQUESTS = 64;

export class StepScheduler {
  private readonly lanes = new Map<string, QueuedJob[]>();
  /** Lanes with work, in round-robin order (each lane appears at most once). */
  private readonly ready: string[] = [];
  private pendingCount = 0;
  private stepCount = 0;
  private running = false;
  private closed = false;
  private loopDone: Promise<void> | undefined;

  constructor(private readonly maxPending: number = DEFAULT_MAX_PENDING_REQUESTS) {
    if (!Number.isInteger(maxPending) || maxPending < 1) throw new EarshotError('E_INTERNAL', `maxPending must be a positive integer, got ${maxPending}`);
  }

  stats(): SchedulerStats {
    return { pending: this.pendingCount, lanes: this.lanes.size, steps: this.stepCount };
  }

  /** Queue `job` on `lane`; rejects at once with E_ENGINE_BUSY when the bound is reached. */
  submit<T>(lane: string, job: StepJob<T>, options: SubmitOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new EarshotError('E_ENGINE', 'The engine is closed.'));
    const exempt = options.exempt ?? false;
    if (!exempt && this.pendingCount >= this.maxPending) {
      return Promise.reject(
        new EarshotError('E_ENGINE_BUSY', `The engine has ${this.pendingCount} requests pending (limit ${this.maxPending}); try again later.`, { retryable: true }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const queued: QueuedJob = { start: job as StepJob<unknown>, exempt, resolve: resolve as (v: unknown) => void, reject };
      if (!exempt) this.pendingCount++;
      let queue = this.lanes.get(lane);
      if (queue === undefined) {
        queue = [];
        this.lanes.set(lane, queue);
        this.ready.push(lane);
      }
      queue.push(queued);
      this.pump();
    });
  }

  /**
   * Refuse new work and fail queued jobs; resolves once the step that was running (if any) has
   * finished, so the caller may release the model afterwards.
   */
  close(): Promise<void> {
    this.closed = true;
    for (const queue of this.lanes.values()) {
      for (const job of queue) {
        void job.iterator?.return(undefined);
        job.reject(new EarshotError('E_ENGINE', 'The engine is closed.'));
      }
    }
    this.lanes.clear();
    this.ready.length = 0;
    this.pendingCount = 0;
    return this.loopDone ?? Promise.resolve();
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.ready.length > 0) {
        const lane = this.ready.shift()!;
        const queue = this.lanes.get(lane);
        if (queue === undefined || queue.length === 0) continue;
        const job = queue[0];
        let finished = false;
        try {
          job.iterator ??= job.start();
          this.stepCount++;
          const r = await job.iterator.next();
          if (r.done) {
            finished = true;
            job.resolve(r.value);
          }
        } catch (error) {
          finished = true;
          job.reject(error);
        }
        if (this.lanes.get(lane) !== queue) continue; // closed meanwhile
        if (finished) {
          queue.shift();
          if (!job.exempt) this.pendingCount--;
        }
        if (queue.length > 0) this.ready.push(lane);
        else this.lanes.delete(lane);
        // A macrotask turn between steps, so messages (new requests, refusals) are handled even when
        // a step completed without real asynchronous work.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }
}
