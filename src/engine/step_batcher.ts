// Collects the one-token text-graph steps (decode steps, the last token of a prefill) that sessions'
// scheduler steps are waiting on, and runs them together (phi4mm/batched_step.ts). A step that asks for
// a batched run parks here; the scheduler keeps running other lanes and flushes once every lane has had
// its turn in the round, or when a full batch is waiting (scheduler.ts).

import { EarshotError } from '../errors.ts';
import { runBatchedStep, type BatchedStepModel, type StepRow } from './phi4mm/batched_step.ts';
import type { DecodeStepBatcher } from './phi4mm/generate.ts';

/** Rows per batched run (1 turns batching off): 4 fits Phi-4-mini on CPU (docs/performance.md). */
export const DEFAULT_BATCH_MAX_ROWS = 4;
/**
 * Sessions longer than this run their steps alone: the batch is padded to its longest row, so a long
 * conversation would make every short row copy and attend over its padding. Kept below the 4096 where
 * Phi-4's LongRoPE switches factors (the switch follows the batch's padded length, not the row's).
 */
export const DEFAULT_BATCH_MAX_CONTEXT_TOKENS = 1024;
export const LONGROPE_SWITCH_TOKENS = 4096;

export interface StepBatcherOptions {
  maxRows?: number;
  maxContextTokens?: number;
}

interface WaitingRow {
  row: StepRow;
  resolve: (logits: Float32Array) => void;
  reject: (error: unknown) => void;
}

export interface BatchStats {
  /** Batched runs made and rows they carried (rows / runs = mean batch size). */
  runs: number;
  rows: number;
}

export class StepBatcher implements DecodeStepBatcher {
  readonly maxRows: number;
  readonly maxContextTokens: number;
  private queue: WaitingRow[] = [];
  private runs = 0;
  private rowsRun = 0;

  /** `onWaiting` is told each time a row starts waiting (the scheduler then knows the step parked). */
  constructor(
    private readonly model: BatchedStepModel,
    options: StepBatcherOptions = {},
    private readonly onWaiting: () => void = () => undefined,
  ) {
    this.maxRows = Math.max(1, Math.floor(options.maxRows ?? DEFAULT_BATCH_MAX_ROWS));
    this.maxContextTokens = Math.min(
      LONGROPE_SWITCH_TOKENS - 1,
      Math.max(0, Math.floor(options.maxContextTokens ?? DEFAULT_BATCH_MAX_CONTEXT_TOKENS)),
    );
  }

  /** Whether a step over a cache of `cacheLength` tokens should wait for a batch. */
  accepts(cacheLength: number): boolean {
    return this.maxRows > 1 && cacheLength >= 1 && cacheLength <= this.maxContextTokens;
  }

  get waiting(): number {
    return this.queue.length;
  }

  stats(): BatchStats {
    return { runs: this.runs, rows: this.rowsRun };
  }

  /** Waits for the next flush; resolves with the row's last-position logits (its cache has grown by one). */
  step(row: StepRow): Promise<Float32Array> {
    return new Promise<Float32Array>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.onWaiting();
    });
  }

  /**
   * Runs everything waiting: rows sharing LoRA feeds, sorted by length so a batch pads little, in runs of
   * at most maxRows. A failed run fails only its own rows.
   */
  async flush(): Promise<void> {
    const waiting = this.queue;
    this.queue = [];
    // Sessions without LoRA feeds (each has its own empty object) form one group.
    const noFeeds = {};
    const groups = new Map<Record<string, unknown>, WaitingRow[]>();
    for (const w of waiting) {
      const key = Object.keys(w.row.loraFeeds).length === 0 ? noFeeds : w.row.loraFeeds;
      const group = groups.get(key);
      if (group) group.push(w);
      else groups.set(key, [w]);
    }
    for (const group of groups.values()) {
      group.sort((a, b) => a.row.cache.length - b.row.cache.length);
      for (let start = 0; start < group.length; start += this.maxRows) {
        const chunk = group.slice(start, start + this.maxRows);
        try {
          const logits = await runBatchedStep(
            this.model,
            chunk.map((w) => w.row),
          );
          this.runs++;
          this.rowsRun += chunk.length;
          chunk.forEach((w, i) => w.resolve(logits[i]));
        } catch (error) {
          for (const w of chunk) w.reject(error);
        }
      }
    }
  }

  /** Fails every waiting row (the engine closing). */
  failAll(error: unknown = new EarshotError('E_ENGINE', 'The engine is closed.')): void {
    const waiting = this.queue;
    this.queue = [];
    for (const w of waiting) w.reject(error);
  }
}
