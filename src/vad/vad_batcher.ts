// Cross-stream batching of Silero windows. Every connection feeds 32 ms windows at real time; running each
// alone costs the fixed per-run overhead every time (8 streams: 1.36 ms per tick one by one versus 0.58 ms as
// one [8, 512] run, measured here). So streams queue their windows and one flush per macrotask runs the head
// of every queue in a single ORT call.
//
// A stream's state is sequential, so a stream never has two windows in flight: each flush takes at most the
// head of each stream's queue, and only streams with nothing in flight. Up to maxBatchesInFlight batches run at
// once (one per VAD worker thread, vad.worker_threads); with one, the next flush waits for the running batch,
// and the windows that arrive meanwhile join it.
import { EarshotError, isEarshotError } from '../errors.ts';
import { SILERO_WINDOW_SAMPLES, type SileroState, type VadModel } from './silero_model.ts';

export interface VadStream {
  /** Speech probability of the next 512-sample window of this stream. Calls resolve in call order. */
  infer(window: Float32Array): Promise<number>;
  /** Zero the recurrent state; windows passed to infer() before this call still use the old state. */
  reset(): void;
  /** Rejects every pending call with E_ABORTED and frees the stream. Idempotent. */
  close(): void;
}

export interface VadBatcherStats {
  batches: number;
  windows: number;
  maxBatch: number;
}

interface PendingWindow {
  window: Float32Array;
  resolve: (probability: number) => void;
  reject: (error: Error) => void;
  /** reset() was called after this window was submitted: zero the state once it has run. */
  resetAfter: boolean;
  settled: boolean;
  /**
   * When this window is due on its stream's own clock (performance.now() ms): its arrival, or one window
   * of audio after the previous window's due time if that is later. A client uploading faster than real
   * time queues windows that are not late yet; only time past this counts as the VAD being behind.
   */
  dueAtMs: number;
}

/** Audio one window carries, ms (512 samples at 16 kHz). */
export const SILERO_WINDOW_MS = (SILERO_WINDOW_SAMPLES / 16_000) * 1000;

class BatchedStream implements VadStream {
  readonly queue: PendingWindow[] = [];
  readonly state: SileroState;
  inFlight: PendingWindow | undefined;
  queuedForFlush = false;
  closed = false;
  /** Due time of the last window submitted (the stream's own audio clock), ms. */
  private lastDueAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly batcher: VadBatcher,
    state: SileroState,
  ) {
    this.state = state;
  }

  infer(window: Float32Array): Promise<number> {
    if (this.closed) return Promise.reject(new EarshotError('E_ABORTED', 'The VAD stream is closed.'));
    if (window.length !== SILERO_WINDOW_SAMPLES) {
      // Rejected here rather than in the model so one bad caller cannot fail the other streams' batch.
      return Promise.reject(
        new EarshotError('E_INTERNAL', `VAD windows are ${SILERO_WINDOW_SAMPLES} samples, got ${window.length}`),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const dueAtMs = Math.max(performance.now(), this.lastDueAtMs + SILERO_WINDOW_MS);
      this.lastDueAtMs = dueAtMs;
      // Copy: the caller may reuse its buffer before the flush runs.
      this.queue.push({
        window: Float32Array.from(window),
        resolve,
        reject,
        resetAfter: false,
        settled: false,
        dueAtMs,
      });
      this.batcher.markReady(this);
    });
  }

  reset(): void {
    if (this.closed) return;
    const last = this.queue.at(-1) ?? this.inFlight;
    if (last) last.resetAfter = true;
    else zeroState(this.state);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const aborted = [...(this.inFlight ? [this.inFlight] : []), ...this.queue];
    this.queue.length = 0;
    for (const pending of aborted) settleReject(pending, new EarshotError('E_ABORTED', 'The VAD stream was closed.'));
    this.batcher.forget(this);
  }
}

export class VadBatcher {
  private readonly maxBatchStreams: number;
  private readonly maxBatchesInFlight: number;
  /** Streams with a queued window and none in flight, in the order they became ready (FIFO = fair past the cap). */
  private readonly ready: BatchedStream[] = [];
  private flushScheduled = false;
  private batchesInFlight = 0;
  private readonly counters: VadBatcherStats = { batches: 0, windows: 0, maxBatch: 0 };
  /** Longest a window started past its due time (its stream's own clock), since the last takeMaxLagMs(). */
  private maxLagMs = 0;
  /** Batches running now, by start order: the earliest due time of each (a stalled thread shows as lag). */
  private readonly runningDueAtMs = new Map<number, number>();
  /** Batch time (ms, summed over batches in flight) finished since the last takeBusyMs(). */
  private busyMs = 0;
  /** Running batches: from when their time is not yet counted in busyMs (start, or the last takeBusyMs()). */
  private readonly runningSinceMs = new Map<number, number>();

  constructor(
    private readonly model: VadModel,
    opts: { maxBatchStreams: number; maxBatchesInFlight?: number },
  ) {
    const maxBatchesInFlight = opts.maxBatchesInFlight ?? 1;
    for (const [name, value] of [
      ['maxBatchStreams', opts.maxBatchStreams],
      ['maxBatchesInFlight', maxBatchesInFlight],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new EarshotError('E_CONFIG_INVALID', `${name} must be a positive integer, got ${value}`);
    }
    this.maxBatchStreams = opts.maxBatchStreams;
    this.maxBatchesInFlight = maxBatchesInFlight;
  }

  openStream(): VadStream {
    return new BatchedStream(this, this.model.createState());
  }

  stats(): VadBatcherStats {
    return { ...this.counters };
  }

  /** @internal called by a stream when its queue gains a head that can run. */
  markReady(stream: BatchedStream): void {
    if (stream.queuedForFlush || stream.inFlight || stream.closed) return;
    stream.queuedForFlush = true;
    this.ready.push(stream);
    this.scheduleFlush();
  }

  /** @internal called by a closing stream. */
  forget(stream: BatchedStream): void {
    if (!stream.queuedForFlush) return;
    stream.queuedForFlush = false;
    const index = this.ready.indexOf(stream);
    if (index >= 0) this.ready.splice(index, 1);
  }

  /**
   * How far behind real time the VAD is, in ms, measured on each stream's own clock (a window is late once
   * its stream's audio clock has passed it, not merely because a fast client queued it early): the
   * largest lateness of a window when its batch started since the last call, or of a window still waiting
   * or still running if that is larger (a stalled VAD thread finishes nothing). Resets the maximum; the
   * admission guard samples it once an interval.
   */
  takeMaxLagMs(): number {
    const nowMs = performance.now();
    let max = this.maxLagMs;
    for (const stream of this.ready) {
      const head = stream.queue[0];
      if (head) max = Math.max(max, nowMs - head.dueAtMs);
    }
    for (const dueAtMs of this.runningDueAtMs.values()) max = Math.max(max, nowMs - dueAtMs);
    this.maxLagMs = 0;
    return Math.max(0, max);
  }

  /**
   * Time the VAD threads spent on batches since the last call, ms, summed over the batches in flight (a
   * running batch counts up to now). Divided by the interval and maxBatchesInFlight it is the VAD's busy
   * fraction, which the capacity estimate takes as its utilization. Measured here, on the main thread, it
   * includes each batch's message round trip: the time a batch slot is taken.
   */
  takeBusyMs(): number {
    const nowMs = performance.now();
    let busy = this.busyMs;
    for (const [batchId, sinceMs] of this.runningSinceMs) {
      busy += nowMs - sinceMs;
      this.runningSinceMs.set(batchId, nowMs);
    }
    this.busyMs = 0;
    return busy;
  }

  get batchSlots(): number {
    return this.maxBatchesInFlight;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchesInFlight >= this.maxBatchesInFlight || this.ready.length === 0) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: every stream that receives audio in the current macrotask joins this run.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushWhileRoom();
    });
  }

  /** Starts batches while streams are ready and a batch slot is free (more than one only past the cap). */
  private flushWhileRoom(): void {
    while (this.ready.length > 0 && this.batchesInFlight < this.maxBatchesInFlight) void this.flush();
  }

  private async flush(): Promise<void> {
    const streams = this.ready.splice(0, this.maxBatchStreams);
    if (streams.length === 0) return;
    this.batchesInFlight++;
    const items: PendingWindow[] = [];
    const startedAtMs = performance.now();
    let earliestDueAtMs = Number.POSITIVE_INFINITY;
    for (const stream of streams) {
      stream.queuedForFlush = false;
      const head = stream.queue.shift()!;
      stream.inFlight = head;
      items.push(head);
      earliestDueAtMs = Math.min(earliestDueAtMs, head.dueAtMs);
    }
    this.maxLagMs = Math.max(this.maxLagMs, startedAtMs - earliestDueAtMs);
    const batchId = this.counters.batches;
    this.runningDueAtMs.set(batchId, earliestDueAtMs);
    this.runningSinceMs.set(batchId, startedAtMs);
    this.counters.batches++;
    this.counters.windows += items.length;
    this.counters.maxBatch = Math.max(this.counters.maxBatch, items.length);

    try {
      const probabilities = await this.model.runBatch(
        items.map((item) => item.window),
        streams.map((stream) => stream.state),
      );
      items.forEach((item, b) => settleResolve(item, probabilities[b]));
    } catch (cause) {
      const error =
        isEarshotError(cause) && cause.code === 'E_VAD_MODEL'
          ? cause
          : new EarshotError(
              'E_VAD_MODEL',
              `Silero VAD batch failed: ${cause instanceof Error ? cause.message : String(cause)}`,
              { cause },
            );
      for (const item of items) settleReject(item, error);
    } finally {
      this.runningDueAtMs.delete(batchId);
      this.busyMs += performance.now() - (this.runningSinceMs.get(batchId) ?? startedAtMs);
      this.runningSinceMs.delete(batchId);
      // This batch still counts as in flight while its streams are re-marked, so markReady() does not
      // schedule a flush into its slot.
      for (const stream of streams) {
        const done = stream.inFlight;
        stream.inFlight = undefined;
        if (done?.resetAfter) zeroState(stream.state);
        if (!stream.closed && stream.queue.length > 0) this.markReady(stream);
      }
      // Streams with more queued windows (a connection catching up) run again at once rather than one
      // window per event-loop turn, which under load would let their backlog grow without end.
      this.batchesInFlight--;
      if (!this.flushScheduled) this.flushWhileRoom();
    }
  }
}

function zeroState(state: SileroState): void {
  state.h.fill(0);
  state.c.fill(0);
}

function settleResolve(pending: PendingWindow, probability: number): void {
  if (pending.settled) return;
  pending.settled = true;
  pending.resolve(probability);
}

function settleReject(pending: PendingWindow, error: Error): void {
  if (pending.settled) return;
  pending.settled = true;
  pending.reject(error);
}

/**
 * Per-window speech probabilities of a whole 16 kHz recording, one stream, for tools and offline analysis.
 * Window i covers samples [512 i, 512 i + 512); a final partial window is zero-padded so the whole input is
 * classified.
 */
export async function classifyWindowsOffline(model: VadModel, samples16k: Float32Array): Promise<Float32Array> {
  const windowCount = Math.ceil(samples16k.length / SILERO_WINDOW_SAMPLES);
  const probabilities = new Float32Array(windowCount);
  const state = model.createState();
  for (let i = 0; i < windowCount; i++) {
    const start = i * SILERO_WINDOW_SAMPLES;
    let window = samples16k.subarray(start, start + SILERO_WINDOW_SAMPLES);
    if (window.length < SILERO_WINDOW_SAMPLES) {
      const padded = new Float32Array(SILERO_WINDOW_SAMPLES);
      padded.set(window);
      window = padded;
    }
    probabilities[i] = (await model.runBatch([window], [state]))[0];
  }
  return probabilities;
}
