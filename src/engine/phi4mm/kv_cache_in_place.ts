// One sequence's KV cache kept in a capacity-sized row of a KvStorage (kv_storage.ts) that the text graph
// appends to in place. The row is either the cache's own one-row storage or a row of a batch arena
// (batched_step_in_place.ts), which several caches share. Growth past the capacity moves the cache to a
// new own storage with room for a chunk more (one copy per chunk of tokens); a rewind only moves the
// length; a cache left holding much less than its capacity moves to a smaller storage (compaction).

import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import { capacityFor, KvStorage, type KvShape } from './kv_storage.ts';

export interface InPlaceKvOptions {
  /** Positions a cache grows by at a time (default DEFAULT_KV_GROWTH_TOKENS). */
  growthTokens?: number;
  /** Largest capacity: the text graph's context length (its rotary caches end there). */
  maxTokens: number;
}

/**
 * Positions a cache grows by. Every step still costs one capacity-sized copy (onnxruntime-node returns a
 * copy of each pre-allocated output), so headroom is not free either: 128 positions is 32 MiB at
 * Phi-4-mini size, a copy at most once per 128 tokens.
 */
export const DEFAULT_KV_GROWTH_TOKENS = 128;

export interface KvNames {
  pastKeys: readonly string[];
  pastValues: readonly string[];
  presentKeys: readonly string[];
  presentValues: readonly string[];
}

export class InPlaceKvCache {
  readonly inPlace = true;
  private storage: KvStorage | undefined;
  private rowIndex = 0;
  private len = 0;
  private disposed = false;
  readonly growthTokens: number;
  private readonly maxTokens: number;

  constructor(
    readonly shape: KvShape,
    private readonly names: KvNames,
    options: InPlaceKvOptions,
  ) {
    this.growthTokens = Math.max(1, Math.floor(options.growthTokens ?? DEFAULT_KV_GROWTH_TOKENS));
    this.maxTokens = options.maxTokens;
  }

  get length(): number {
    return this.len;
  }

  /** Positions the current row holds room for (0 before the first run). */
  get capacity(): number {
    return this.storage?.capacity ?? 0;
  }

  /** Bytes of the row this cache occupies (its whole capacity). */
  get bytes(): number {
    return this.storage?.rowBytes ?? 0;
  }

  get bytesPerToken(): number {
    const { numLayers, numKvHeads, headSize, floatType } = this.shape;
    return numLayers * 2 * numKvHeads * headSize * (floatType === 'float32' ? 4 : 2);
  }

  /** Where the cache lives: its storage and row (undefined while empty and unplaced). */
  get placement(): { storage: KvStorage; row: number } | undefined {
    return this.storage === undefined ? undefined : { storage: this.storage, row: this.rowIndex };
  }

  /** Makes room for `added` more positions (moving to a larger own storage when needed). */
  reserve(added: number): void {
    this.assertLive();
    const needed = this.len + added;
    if (needed > this.maxTokens) {
      throw new EarshotError(
        'E_ENGINE',
        `The context would reach ${needed} tokens, over the ${this.maxTokens}-token limit.`,
      );
    }
    if (this.storage !== undefined && needed <= this.storage.capacity) return;
    this.moveTo(new KvStorage(this.shape, 1, capacityFor(needed, this.growthTokens, this.maxTokens)), 0);
  }

  /**
   * The `past_key_values.*` feeds and the `present.*` fetches of a run over this cache alone: the same
   * tensors, so GroupQueryAttention writes the new positions into the row. Call reserve() first.
   */
  bindings(): { feeds: Record<string, ort.Tensor>; fetches: Record<string, ort.Tensor> } {
    this.assertLive();
    if (this.storage === undefined)
      throw new EarshotError('E_INTERNAL', 'reserve() must place the KV cache before a run.');
    const { keys, values } = this.storage.spanTensors(this.rowIndex, 1);
    return bindingsOf(this.names, keys, values);
  }

  /**
   * Copies of one layer's key and value positions as `[1, kvHeads, length, headSize]` tensors (the
   * copying cache's layout), for inspection and tests: runs never use them.
   */
  layerTensors(layer: number): { key: ort.Tensor; value: ort.Tensor } {
    this.assertLive();
    const { numKvHeads, headSize, floatType } = this.shape;
    const compact = (data: Float32Array | Uint16Array | undefined): ort.Tensor => {
      const out =
        floatType === 'float32'
          ? new Float32Array(numKvHeads * this.len * headSize)
          : new Uint16Array(numKvHeads * this.len * headSize);
      if (data !== undefined && this.storage !== undefined) {
        const base = this.rowIndex * this.storage.rowElements;
        for (let h = 0; h < numKvHeads; h++) {
          const s = base + h * this.storage.capacity * headSize;
          (out as Float32Array).set(
            (data as Float32Array).subarray(s, s + this.len * headSize),
            h * this.len * headSize,
          );
        }
      }
      return new ort.Tensor(floatType, out as Float32Array & Uint16Array, [1, numKvHeads, this.len, headSize]);
    };
    return { key: compact(this.storage?.keys[layer]), value: compact(this.storage?.values[layer]) };
  }

  /** Records `added` positions written by a run over bindings(). */
  commit(added: number): void {
    this.assertLive();
    if (this.len + added > this.capacity)
      throw new EarshotError(
        'E_INTERNAL',
        `A run wrote past the KV capacity (${this.len} + ${added} > ${this.capacity}).`,
      );
    this.len += added;
  }

  /** Moves the cache into row `row` of `storage` (copying its positions); the old row is given up. */
  moveTo(storage: KvStorage, row: number): void {
    this.assertLive();
    if (this.len > storage.capacity)
      throw new EarshotError('E_INTERNAL', `A KV row of ${storage.capacity} positions cannot hold ${this.len}.`);
    if (this.storage !== undefined && this.len > 0) storage.copyRowFrom(this.storage, this.rowIndex, row, this.len);
    this.storage = storage;
    this.rowIndex = row;
  }

  /** Rewind to `length` positions: the length moves; the row shrinks when it holds far more than that. */
  truncate(length: number): void {
    this.assertLive();
    if (!Number.isInteger(length) || length < 0 || length > this.len) {
      throw new EarshotError('E_INTERNAL', `Cannot truncate a KV cache of ${this.len} tokens to ${length}.`);
    }
    this.len = length;
    this.compact();
  }

  /**
   * Moves to a smaller own storage when the row's capacity is more than twice what the length needs
   * (a long branch rewound, a rebuilt session): the memory goes back instead of staying reserved.
   */
  compact(): void {
    this.assertLive();
    if (this.storage === undefined) return;
    if (this.len === 0) {
      this.storage = undefined;
      return;
    }
    const target = capacityFor(this.len, this.growthTokens, this.maxTokens);
    if (this.storage.capacity > 2 * target) this.moveTo(new KvStorage(this.shape, 1, target), 0);
  }

  reset(): void {
    this.assertLive();
    this.len = 0;
    this.storage = undefined;
  }

  dispose(): void {
    this.len = 0;
    this.storage = undefined;
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new EarshotError('E_INTERNAL', 'The KV cache was disposed.');
  }
}

/** Feeds and fetches naming the same tensors (see InPlaceKvCache.bindings). */
export function bindingsOf(
  names: KvNames,
  keys: readonly ort.Tensor[],
  values: readonly ort.Tensor[],
): { feeds: Record<string, ort.Tensor>; fetches: Record<string, ort.Tensor> } {
  const feeds: Record<string, ort.Tensor> = {};
  const fetches: Record<string, ort.Tensor> = {};
  for (let i = 0; i < keys.length; i++) {
    feeds[names.pastKeys[i]] = fetches[names.presentKeys[i]] = keys[i];
    feeds[names.pastValues[i]] = fetches[names.presentValues[i]] = values[i];
  }
  return { feeds, fetches };
}
