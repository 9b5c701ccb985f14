// Batched one-token steps over in-place KV caches without copying caches per step. The text graph takes
// a batch's past as one `[rows, kvHeads, capacity, headSize]` tensor, so the rows of a batch must be
// consecutive rows of one buffer: a batch arena (KvStorage with one row per session). The first step of
// a set of sessions moves their caches into a new arena (one copy of each cache); every later step of the
// same set runs on the arena as it is, GroupQueryAttention appending each row's entry after the row's own
// length (the right-padded attention mask gives it). The set changes when a session joins or leaves
// (a generation starts or ends) or a row outgrows the arena: then a new arena is formed, again one copy.
// A session stepping alone or prefilling keeps using its arena row in place while it fits.

import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import type { BatchedStepModel, StepRow } from './batched_step_types.ts';
import { bindingsOf, type InPlaceKvCache } from './kv_cache_in_place.ts';
import { capacityFor, KvStorage, type FloatArray } from './kv_storage.ts';
import { floatRowView, runGraph } from './tensors.ts';

/** Arenas formed so far (one copy of each row's cache each), for the bench and tests. */
export const arenaStats = { formed: 0, rowsMoved: 0 };

/**
 * The arena rows [first, first + count) holding `caches` when they are consecutive rows of one arena
 * with room for one more position each; the caches in row order, or undefined.
 */
function existingSpan(
  caches: readonly InPlaceKvCache[],
): { storage: KvStorage; first: number; order: number[] } | undefined {
  const first = caches[0].placement;
  if (first === undefined || first.storage.rows < caches.length) return undefined;
  const storage = first.storage;
  const rows = caches.map((c) => c.placement);
  if (rows.some((p) => p === undefined || p.storage !== storage)) return undefined;
  const lowest = Math.min(...rows.map((p) => p!.row));
  const order = new Array<number>(caches.length).fill(-1);
  for (const [i, p] of rows.entries()) {
    const slot = p!.row - lowest;
    if (slot >= caches.length || order[slot] !== -1) return undefined;
    order[slot] = i;
  }
  if (caches.some((c) => c.length + 1 > storage.capacity)) return undefined;
  return { storage, first: lowest, order };
}

/** A new arena for `caches` (sorted by length), each moved into its row. */
function formArena(
  caches: readonly InPlaceKvCache[],
  growthTokens: number,
  maxTokens: number,
): { storage: KvStorage; first: number; order: number[] } {
  const longest = Math.max(...caches.map((c) => c.length));
  const storage = new KvStorage(caches[0].shape, caches.length, capacityFor(longest + 1, growthTokens, maxTokens));
  caches.forEach((c, i) => c.moveTo(storage, i));
  arenaStats.formed++;
  arenaStats.rowsMoved += caches.length;
  return { storage, first: 0, order: caches.map((_, i) => i) };
}

/** runBatchedStep for in-place caches (several rows): logits in the rows' order. */
export async function runInPlaceBatch(model: BatchedStepModel, rows: readonly StepRow[]): Promise<Float32Array[]> {
  const { hiddenSize, vocabSize, floatType, names, contextLength } = model.io;
  const n = names.text;
  const caches = rows.map((r) => r.cache as InPlaceKvCache);
  const longest = Math.max(...caches.map((c) => c.length));
  if (longest + 1 > contextLength)
    throw new EarshotError(
      'E_ENGINE',
      `The context would reach ${longest + 1} tokens, over the ${contextLength}-token limit.`,
    );
  for (const r of rows) {
    const values = (r.embeds.data as FloatArray).length;
    if (values !== hiddenSize)
      throw new EarshotError(
        'E_INTERNAL',
        `A batched step row has ${values} embedding values, expected ${hiddenSize}.`,
      );
  }
  if (caches.length === 1) caches[0].reserve(1); // alone: its own row, grown in chunks
  const span = existingSpan(caches) ?? formArena(caches, caches[0].growthTokens, contextLength);
  const batch = rows.length;
  // Slot s of the span holds rows[order[s]].
  const ordered = span.order.map((i) => rows[i]);
  const { keys, values } = span.storage.spanTensors(span.first, batch);
  const kv = bindingsOf(n, keys, values);
  const embeds: FloatArray =
    floatType === 'float32' ? new Float32Array(batch * hiddenSize) : new Uint16Array(batch * hiddenSize);
  ordered.forEach((r, b) => embeds.set(r.embeds.data as Float32Array & Uint16Array, b * hiddenSize));
  // Right padding: row b attends to its own length plus the new token, which GQA writes at that length.
  const total = longest + 1;
  const mask = new BigInt64Array(batch * total);
  ordered.forEach((r, b) => mask.fill(1n, b * total, b * total + r.cache.length + 1));
  const feeds: Record<string, ort.Tensor> = {
    ...rows[0].loraFeeds,
    ...model.textFeeds?.(true),
    ...kv.feeds,
    [n.inputsEmbeds]: new ort.Tensor(floatType, embeds as Float32Array & Uint16Array, [batch, 1, hiddenSize]),
    [n.attentionMask]: new ort.Tensor('int64', mask, [batch, total]),
  };
  const outputs = await runGraph(model.text, feeds, `The text graph failed on a batch of ${batch}`, {
    [n.logits]: null,
    ...kv.fetches,
  });
  const logits = outputs[n.logits] as ort.Tensor | undefined;
  if (logits === undefined || logits.dims.length !== 3 || logits.dims[0] !== batch || logits.dims[2] !== vocabSize) {
    throw new EarshotError(
      'E_ENGINE',
      `The text graph returned logits of shape [${logits?.dims.join(', ') ?? 'none'}], expected [${batch}, 1, ${vocabSize}].`,
    );
  }
  const result = new Array<Float32Array>(batch);
  ordered.forEach((r, b) => {
    (r.cache as InPlaceKvCache).commit(1);
    result[span.order[b]] = floatRowView(logits, b * vocabSize, vocabSize);
  });
  logits.dispose();
  return result;
}
