// One text-graph run for the next-token step of several sessions at once. A one-token run is bound by
// reading the weights (the lm_head alone is hidden x 200064), so B rows cost about what one row costs.
// Each session keeps its own KV cache; for the run their caches are copied into one right-padded batch
// and the attention mask gives every row its own length: the exported graph derives GroupQueryAttention's
// seqlens_k from ReduceSum(attention_mask) - 1, and GQA reads row b's past up to that length, writes the
// new entry right after it and takes the rotary position from it. Padding is never attended to.

import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import type { KvCache } from './kv_cache.ts';
import { runInPlaceBatch } from './batched_step_in_place.ts';
import type { BatchedStepModel, StepRow } from './batched_step_types.ts';
import { floatRowView, runGraph } from './tensors.ts';

export type { BatchedStepModel, StepRow };

type FloatArray = Float32Array | Uint16Array;

function allocLike(data: FloatArray, length: number): FloatArray {
  return data instanceof Float32Array ? new Float32Array(length) : new Uint16Array(length);
}

/** Positions of headroom a row's cache buffer gets when it must grow: at least this, or an eighth more. */
const CACHE_HEADROOM_MIN_POSITIONS = 32;

/**
 * The array a row's grown cache tensor is written to: the row's previous tensor's buffer when it has room
 * (that tensor was copied into the padded batch before the run and is dropped after it), else a new buffer
 * with headroom. A fresh buffer per row, layer and step was most of the engine worker's garbage: every
 * ArrayBuffer counts as external memory, and V8 starts a full collection per 64 MB of it.
 */
function rowCacheArray(
  previous: FloatArray,
  elements: number,
  elementsPerPosition: number,
  positions: number,
): FloatArray {
  const Type = previous instanceof Float32Array ? Float32Array : Uint16Array;
  if (previous.byteOffset === 0 && previous.buffer.byteLength >= elements * Type.BYTES_PER_ELEMENT) {
    return new Type(previous.buffer as ArrayBuffer, 0, elements);
  }
  const headroom = Math.max(CACHE_HEADROOM_MIN_POSITIONS, positions >> 3) * elementsPerPosition;
  return new Type(new ArrayBuffer((elements + headroom) * Type.BYTES_PER_ELEMENT), 0, elements);
}

/**
 * The padded past buffers are rebuilt for every step (16 rows of a 1000-token context are megabytes per
 * layer), so they are reused from run to run instead of left to the garbage collector: batched runs of a
 * model never overlap (the scheduler awaits each flush), and onnxruntime reads inputs only during run().
 * Padding may hold an earlier run's values: GroupQueryAttention never reads past a row's own length.
 */
const scratchByModel = new WeakMap<object, Map<string, FloatArray>>();

function scratch(model: object, key: string, like: FloatArray, length: number): FloatArray {
  let buffers = scratchByModel.get(model);
  if (buffers === undefined) scratchByModel.set(model, (buffers = new Map()));
  let buffer = buffers.get(key);
  if (buffer === undefined || buffer.length < length || buffer.constructor !== like.constructor) {
    buffer = allocLike(like, length);
    buffers.set(key, buffer);
  }
  return buffer.subarray(0, length);
}

/**
 * Runs one step for every row; each row's cache grows by one position and its last-position logits are
 * returned in row order. Throws E_ENGINE when the graph fails (no cache is changed then).
 */
export async function runBatchedStep(model: BatchedStepModel, rows: readonly StepRow[]): Promise<Float32Array[]> {
  if (rows.length === 0) return [];
  if (rows.some((r) => r.cache.inPlace)) {
    if (!rows.every((r) => r.cache.inPlace))
      throw new EarshotError('E_INTERNAL', 'A batch mixes in-place and copying KV caches.');
    return runInPlaceBatch(model, rows);
  }
  const copying = rows as readonly (StepRow & { cache: KvCache })[];
  const { vocabSize, names } = model.io;
  const n = names.text;
  const batch = rows.length;
  if (batch === 1) return [await runSingleRow(model, copying[0])];
  const lengths = rows.map((r) => r.cache.length);
  const feeds = buildBatchFeeds(model, copying, lengths);

  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await runGraph(model.text, feeds, `The text graph failed on a batch of ${batch}`);
  } finally {
    for (const [name, t] of Object.entries(feeds)) if (!(name in rows[0].loraFeeds)) t.dispose();
  }
  const logits = outputs[n.logits] as ort.Tensor | undefined;
  if (logits === undefined || logits.dims.length !== 3 || logits.dims[0] !== batch || logits.dims[2] !== vocabSize) {
    throw new EarshotError(
      'E_ENGINE',
      `The text graph returned logits of shape [${logits?.dims.join(', ') ?? 'none'}], expected [${batch}, 1, ${vocabSize}].`,
    );
  }
  const perRow = splitPresentsPerRow(model, copying, lengths, outputs);
  const result = copying.map((r, b) => {
    r.cache.update(perRow[b], 1);
    // A view: sessions drop their logits as soon as they picked a token (phi4_session.ts), so the batch's
    // buffer is not kept alive by one row.
    return floatRowView(logits, b * vocabSize, vocabSize);
  });
  logits.dispose();
  return result;
}

/**
 * The feeds of one batched run: the first row's LoRA feeds, the model's extra text feeds, every layer's
 * past keys and values right-padded to the longest row, the rows' embeddings and the attention mask.
 * Throws E_INTERNAL when a row's embeddings are not one position wide (the feeds made by then are not
 * disposed).
 */
function buildBatchFeeds(
  model: BatchedStepModel,
  copying: readonly (StepRow & { cache: KvCache })[],
  lengths: readonly number[],
): Record<string, ort.Tensor> {
  const { numLayers, numKvHeads, headSize, hiddenSize, floatType, names } = model.io;
  const n = names.text;
  const batch = copying.length;
  const maxPast = Math.max(...lengths);
  const headStride = maxPast * headSize;
  const rowStride = numKvHeads * headStride;
  const feeds: Record<string, ort.Tensor> = { ...copying[0].loraFeeds, ...model.textFeeds?.(true) };
  const pastOf =
    (kind: string, pick: (layer: number) => readonly ort.Tensor[]) =>
    (layer: number): ort.Tensor => {
      const parts = pick(layer);
      const first = parts[0].data as FloatArray;
      const out = scratch(model.text, `${kind}${layer}`, first, batch * rowStride);
      for (let b = 0; b < batch; b++) {
        const src = parts[b].data as FloatArray;
        const len = lengths[b];
        for (let h = 0; h < numKvHeads; h++) {
          out.set(src.subarray(h * len * headSize, (h + 1) * len * headSize), b * rowStride + h * headStride);
        }
      }
      return new ort.Tensor(floatType, out as Float32Array & Uint16Array, [batch, numKvHeads, maxPast, headSize]);
    };
  const keysOf = pastOf('key', (layer) => copying.map((r) => r.cache.layerTensors(layer).key));
  const valuesOf = pastOf('value', (layer) => copying.map((r) => r.cache.layerTensors(layer).value));
  for (let layer = 0; layer < numLayers; layer++) {
    feeds[n.pastKeys[layer]] = keysOf(layer);
    feeds[n.pastValues[layer]] = valuesOf(layer);
  }
  const firstEmbeds = copying[0].embeds.data as FloatArray;
  const embeds = allocLike(firstEmbeds, batch * hiddenSize);
  copying.forEach((r, b) => {
    const data = r.embeds.data as FloatArray;
    if (data.length !== hiddenSize)
      throw new EarshotError(
        'E_INTERNAL',
        `A batched step row has ${data.length} embedding values, expected ${hiddenSize}.`,
      );
    embeds.set(data, b * hiddenSize);
  });
  feeds[n.inputsEmbeds] = new ort.Tensor(floatType, embeds as Float32Array & Uint16Array, [batch, 1, hiddenSize]);
  // Right padding: row b attends to its own past (lengths[b]) plus the new token.
  const total = maxPast + 1;
  const mask = new BigInt64Array(batch * total);
  for (let b = 0; b < batch; b++) mask.fill(1n, b * total, b * total + lengths[b] + 1);
  feeds[n.attentionMask] = new ort.Tensor('int64', mask, [batch, total]);
  return feeds;
}

/**
 * Splits the presents of a batched run back into one cache per row (only the row's own positions), layer
 * by layer, disposing each present once copied out. Throws E_ENGINE on a present of the wrong shape,
 * before any cache is updated.
 */
function splitPresentsPerRow(
  model: BatchedStepModel,
  copying: readonly (StepRow & { cache: KvCache })[],
  lengths: readonly number[],
  outputs: ort.InferenceSession.OnnxValueMapType,
): Record<string, ort.Tensor>[] {
  const { numLayers, numKvHeads, headSize, floatType, names } = model.io;
  const n = names.text;
  const batch = copying.length;
  const total = Math.max(...lengths) + 1;
  const perRow: Record<string, ort.Tensor>[] = copying.map(() => ({}));
  for (let layer = 0; layer < numLayers; layer++) {
    const previous = copying.map((r) => r.cache.layerTensors(layer));
    for (const [kind, name] of [
      ['key', n.presentKeys[layer]],
      ['value', n.presentValues[layer]],
    ] as const) {
      const present = outputs[name] as ort.Tensor | undefined;
      if (present === undefined || present.dims[0] !== batch || present.dims[2] < total) {
        throw new EarshotError(
          'E_ENGINE',
          `The text graph returned ${name} of shape [${present?.dims.join(', ') ?? 'none'}] for a batch of ${batch} and ${total} positions.`,
        );
      }
      const data = present.data as FloatArray;
      const presentLen = present.dims[2];
      const presentHeadStride = presentLen * headSize;
      for (let b = 0; b < batch; b++) {
        const len = lengths[b] + 1;
        const out = rowCacheArray(
          previous[b][kind].data as FloatArray,
          numKvHeads * len * headSize,
          numKvHeads * headSize,
          len,
        );
        const base = b * numKvHeads * presentHeadStride;
        for (let h = 0; h < numKvHeads; h++) {
          out.set(
            data.subarray(base + h * presentHeadStride, base + h * presentHeadStride + len * headSize),
            h * len * headSize,
          );
        }
        perRow[b][name] = new ort.Tensor(floatType, out as Float32Array & Uint16Array, [1, numKvHeads, len, headSize]);
      }
      present.dispose();
    }
  }
  return perRow;
}

/** One row needs no copies: the cache's tensors are fed as they are and the presents adopted. */
async function runSingleRow(model: BatchedStepModel, row: StepRow & { cache: KvCache }): Promise<Float32Array> {
  const { vocabSize, names } = model.io;
  const n = names.text;
  const length = row.cache.length;
  const mask = new BigInt64Array(length + 1).fill(1n);
  const feeds: Record<string, ort.Tensor> = {
    ...row.loraFeeds,
    ...model.textFeeds?.(true),
    ...row.cache.feeds(),
    [n.inputsEmbeds]: row.embeds,
    [n.attentionMask]: new ort.Tensor('int64', mask, [1, length + 1]),
  };
  const outputs = await runGraph(model.text, feeds, 'The text graph failed');
  const logits = outputs[n.logits] as ort.Tensor | undefined;
  if (logits === undefined || logits.dims.at(-1) !== vocabSize) {
    throw new EarshotError(
      'E_ENGINE',
      `The text graph returned logits of shape [${logits?.dims.join(', ') ?? 'none'}], expected [1, 1, ${vocabSize}].`,
    );
  }
  row.cache.update(outputs as Record<string, ort.Tensor>, 1);
  const result = floatRowView(logits, 0, vocabSize);
  logits.dispose();
  return result;
}
