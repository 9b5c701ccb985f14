// Step scheduler of the engine worker: many sessions share one model, so their work is cut into steps
// (one prefill chunk, one decode step, one speech-encoder chunk) and the steps of different lanes run
// round robin, one at a time. A lane is a session (or one audio encoding): jobs of one lane run in
// order, jobs of different lanes interleave step by step, so a long answer never stalls another
// connection's captions. Pending work is bounded: past the bound a job is refused at once with
// E_ENGINE_BUSY instead of queueing without end.
//
// Batched steps: with a batcher attached, a step may park waiting for a batched text-graph run
// (step_batcher.ts). The scheduler then goes on with the next lane and flushes the batch once every lane
// that was ready when the first step parked has had its turn (or a full batch waits, or nothing else can
// run). A lane never has two steps in flight, so each lane's jobs still run strictly in order.

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
  /**
   * How far behind the engine is, ms: the longest a lane waited for its next step (queued turn or next
   * step of a running one) over the last one to two seconds, or the age of the oldest lane still waiting
   * if that is longer. Time-windowed, so any number of callers may poll it.
   */
  maxStepWaitMs: number;
}

export const DEFAULT_MAX_PENDING_REQUESTS = 64;
/** Step waits are reported over this window and the one before it (the admission guard polls each second). */
const WAIT_WINDOW_MS = 1000;

const closedError = (): EarshotError => new EarshotError('E_ENGINE', 'The engine is closed.');

/** What the scheduler needs of a step batcher. */
export interface SchedulerBatcher {
  readonly waiting: number;
  readonly maxRows: number;
  flush(): Promise<void>;
  failAll(error: unknown): void;
}

export class StepScheduler {
  private readonly lanes = new Map<string, QueuedJob[]>();
  /** Lanes with work, in round-robin order (each lane appears at most once). */
  private readonly ready: string[] = [];
  /** When each lane in `ready` joined it (performance.now() ms): the wait admission watches. */
  private readonly readySinceMs = new Map<string, number>();
  /** Longest step wait in the current and the previous WAIT_WINDOW_MS window (a window that rolls by time). */
  private waitNowMaxMs = 0;
  private waitPrevMaxMs = 0;
  private waitWindowStartMs = performance.now();
  private pendingCount = 0;
  private stepCount = 0;
  private running = false;
  private closed = false;
  private loopDone: Promise<void> | undefined;
  private batcher: SchedulerBatcher | undefined;
  /** Steps started but not settled (parked on the batcher, or resumed after a flush). */
  private inflight = 0;
  /** Flush the batch once stepCount reaches this (set when the first step of a batch parks). */
  private flushAtStep: number | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly maxPending: number = DEFAULT_MAX_PENDING_REQUESTS) {
    if (!Number.isInteger(maxPending) || maxPending < 1)
      throw new EarshotError('E_INTERNAL', `maxPending must be a positive integer, got ${maxPending}`);
  }

  stats(): SchedulerStats {
    const nowMs = performance.now();
    this.rollWaitWindow(nowMs);
    let maxStepWaitMs = Math.max(this.waitNowMaxMs, this.waitPrevMaxMs);
    // ready is in join order, so its head has waited longest.
    const oldest = this.ready.length > 0 ? this.readySinceMs.get(this.ready[0]) : undefined;
    if (oldest !== undefined) maxStepWaitMs = Math.max(maxStepWaitMs, nowMs - oldest);
    return { pending: this.pendingCount, lanes: this.lanes.size, steps: this.stepCount, maxStepWaitMs };
  }

  private rollWaitWindow(nowMs: number): void {
    const elapsedMs = nowMs - this.waitWindowStartMs;
    if (elapsedMs < WAIT_WINDOW_MS) return;
    this.waitPrevMaxMs = elapsedMs < 2 * WAIT_WINDOW_MS ? this.waitNowMaxMs : 0;
    this.waitNowMaxMs = 0;
    this.waitWindowStartMs = nowMs;
  }

  private markReady(lane: string): void {
    this.ready.push(lane);
    this.readySinceMs.set(lane, performance.now());
  }

  private takeReady(): string {
    const lane = this.ready.shift()!;
    const since = this.readySinceMs.get(lane);
    this.readySinceMs.delete(lane);
    if (since !== undefined) {
      const nowMs = performance.now();
      this.rollWaitWindow(nowMs);
      this.waitNowMaxMs = Math.max(this.waitNowMaxMs, nowMs - since);
    }
    return lane;
  }

  /** Attach the batcher whose waiting steps this scheduler flushes. */
  setBatcher(batcher: SchedulerBatcher): void {
    this.batcher = batcher;
  }

  /** The batcher calls this when a step starts waiting for a batched run. */
  notifyParked(): void {
    this.flushAtStep ??= this.stepCount + this.ready.length;
    this.signal();
    this.pump();
  }

  /** Queue `job` on `lane`; rejects at once with E_ENGINE_BUSY when the bound is reached. */
  submit<T>(lane: string, job: StepJob<T>, options: SubmitOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const exempt = options.exempt ?? false;
    if (!exempt && this.pendingCount >= this.maxPending) {
      return Promise.reject(
        new EarshotError(
          'E_ENGINE_BUSY',
          `The engine has ${this.pendingCount} requests pending (limit ${this.maxPending}); try again later.`,
          { retryable: true },
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const queued: QueuedJob = {
        start: job as StepJob<unknown>,
        exempt,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (!exempt) this.pendingCount++;
      let queue = this.lanes.get(lane);
      if (queue === undefined) {
        queue = [];
        this.lanes.set(lane, queue);
        this.markReady(lane);
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
        job.reject(closedError());
      }
    }
    this.lanes.clear();
    this.ready.length = 0;
    this.readySinceMs.clear();
    this.pendingCount = 0;
    this.batcher?.failAll(closedError());
    this.signal();
    return this.loopDone ?? Promise.resolve();
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private nextSignal(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private flushDue(): boolean {
    const b = this.batcher;
    if (b === undefined || b.waiting === 0) return false;
    return this.ready.length === 0 || b.waiting >= b.maxRows || this.stepCount >= (this.flushAtStep ?? 0);
  }

  private async loop(): Promise<void> {
    try {
      // Start on the next turn, so work submitted together forms the first round together.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (;;) {
        if (this.closed) {
          // Let parked steps (failed by close) and resumed ones finish before the model is released.
          // A step whose graph run was still going when close() came parks only afterwards: fail it
          // too, or it would wait for a flush that never comes and close() would never resolve.
          if (this.inflight === 0) break;
          this.batcher?.failAll(closedError());
          await this.nextSignal();
          continue;
        }
        if (this.flushDue()) {
          this.flushAtStep = undefined;
          await this.batcher!.flush();
        } else if (this.ready.length > 0) {
          await this.startStep(this.takeReady());
        } else if (this.inflight > 0) {
          await this.nextSignal();
          continue;
        } else {
          break;
        }
        // A macrotask turn between steps, so messages (new requests, refusals) are handled even when
        // a step completed without real asynchronous work.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }

  /** Runs one step of `lane`'s first job until it yields, finishes, or parks on the batcher. */
  private async startStep(lane: string): Promise<void> {
    const queue = this.lanes.get(lane);
    if (queue === undefined || queue.length === 0) return;
    const job = queue[0];
    this.stepCount++;
    this.inflight++;
    // Listen before the step starts: it may park synchronously.
    const parked = this.batcher === undefined ? undefined : this.nextSignal();
    let step: Promise<IteratorResult<void, unknown>>;
    try {
      job.iterator ??= job.start();
      step = job.iterator.next();
    } catch (error) {
      step = Promise.reject(error);
    }
    const settled = step.then(
      (r) => this.settle(lane, queue, job, r.done === true, r.value, undefined),
      (error: unknown) => this.settle(lane, queue, job, true, undefined, error ?? new Error('step failed')),
    );
    // Without a batcher no step ever parks: wait for it as before.
    await (parked === undefined ? settled : Promise.race([settled, parked]));
  }

  private settle(
    lane: string,
    queue: QueuedJob[],
    job: QueuedJob,
    finished: boolean,
    value: unknown,
    error: unknown,
  ): void {
    this.inflight--;
    if (error !== undefined) job.reject(error);
    else if (finished) job.resolve(value);
    if (this.lanes.get(lane) === queue) {
      if (finished) {
        queue.shift();
        if (!job.exempt) this.pendingCount--;
      }
      if (queue.length > 0) this.markReady(lane);
      else this.lanes.delete(lane);
    }
    this.signal();
    this.pump();
  }
}
