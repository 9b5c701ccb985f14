// The decoder's KV cache for one sequence (batch 1). The text graph returns `present.{i}.key/value`
// = past + new entries; those tensors simply become the next step's `past_key_values` (no copy on our
// side). `truncate` rewinds to an earlier length (ASR side passes, cancelled turns) by copying the
// prefix of each head. Batched steps (batched_step.ts) copy a row's positions out of the padded batch,
// into the row's previous buffer when it has room: the cache owns its tensors' buffers exclusively.

import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import { emptyFloatTensor, tensorBytes, type FloatType } from './tensors.ts';

export interface KvCacheLayout {
  numLayers: number;
  numKvHeads: number;
  headSize: number;
  floatType: FloatType;
  pastKeyName: (layer: number) => string;
  pastValueName: (layer: number) => string;
  presentKeyName: (layer: number) => string;
  presentValueName: (layer: number) => string;
}

/** Name templates of genai_config ("past_key_values.%d.key") turned into functions. */
export function nameTemplate(template: string): (layer: number) => string {
  return (layer) => template.replace('%d', String(layer));
}

/** The memory a cache tensor keeps alive: its whole buffer (each tensor has its own; see batched_step.ts). */
function heldBytes(tensor: ort.Tensor): number {
  const data = tensor.data as ArrayBufferView;
  return data.byteOffset === 0 ? data.buffer.byteLength : tensorBytes(tensor);
}

export class KvCache {
  readonly inPlace = false;
  private keys: ort.Tensor[] = [];
  private values: ort.Tensor[] = [];
  private len = 0;
  private disposed = false;

  constructor(readonly layout: KvCacheLayout) {
    this.reset();
  }

  /** Tokens held. */
  get length(): number {
    return this.len;
  }

  /** Bytes held by keys and values, with the headroom of buffers batched steps grow in place (0 when empty). */
  get bytes(): number {
    let total = 0;
    for (let i = 0; i < this.keys.length; i++) total += heldBytes(this.keys[i]) + heldBytes(this.values[i]);
    return total;
  }

  /** Bytes one token occupies: layers x 2 x kvHeads x headSize x element size. */
  get bytesPerToken(): number {
    const { numLayers, numKvHeads, headSize, floatType } = this.layout;
    return numLayers * 2 * numKvHeads * headSize * (floatType === 'float32' ? 4 : 2);
  }

  /** `past_key_values.*` feeds for the next run. */
  feeds(): Record<string, ort.Tensor> {
    this.assertLive();
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.layout.numLayers; i++) {
      feeds[this.layout.pastKeyName(i)] = this.keys[i];
      feeds[this.layout.pastValueName(i)] = this.values[i];
    }
    return feeds;
  }

  /** The key and value tensors of one layer (`[1, kvHeads, length, headSize]`), for batched runs. */
  layerTensors(layer: number): { key: ort.Tensor; value: ort.Tensor } {
    this.assertLive();
    return { key: this.keys[layer], value: this.values[layer] };
  }

  /** Adopt a run's `present.*` outputs as the cache after `addedTokens` new positions. */
  update(outputs: Record<string, ort.Tensor>, addedTokens: number): void {
    this.assertLive();
    const expected = this.len + addedTokens;
    const keys: ort.Tensor[] = [];
    const values: ort.Tensor[] = [];
    for (let i = 0; i < this.layout.numLayers; i++) {
      const k = outputs[this.layout.presentKeyName(i)];
      const v = outputs[this.layout.presentValueName(i)];
      if (k === undefined || v === undefined) {
        throw new EarshotError(
          'E_ENGINE',
          `The text graph did not return ${this.layout.presentKeyName(i)} / ${this.layout.presentValueName(i)}.`,
        );
      }
      if (k.dims[2] !== expected || v.dims[2] !== expected) {
        throw new EarshotError(
          'E_ENGINE',
          `present KV of layer ${i} has ${k.dims[2]} positions, expected ${expected}.`,
        );
      }
      keys.push(k);
      values.push(v);
    }
    this.release();
    this.keys = keys;
    this.values = values;
    this.len = expected;
  }

  /** Keep only the first `length` positions. */
  truncate(length: number): void {
    this.assertLive();
    if (!Number.isInteger(length) || length < 0 || length > this.len) {
      throw new EarshotError('E_INTERNAL', `Cannot truncate a KV cache of ${this.len} tokens to ${length}.`);
    }
    if (length === this.len) return;
    if (length === 0) {
      this.reset();
      return;
    }
    const { numKvHeads, headSize } = this.layout;
    const cut = (t: ort.Tensor): ort.Tensor => {
      const data = t.data as Float32Array | Uint16Array;
      const out = new (data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(
        numKvHeads * length * headSize,
      );
      const oldStride = this.len * headSize;
      const newStride = length * headSize;
      for (let h = 0; h < numKvHeads; h++)
        out.set(data.subarray(h * oldStride, h * oldStride + newStride), h * newStride);
      return new ort.Tensor(t.type as 'float32' | 'float16', out as Float32Array & Uint16Array, [
        1,
        numKvHeads,
        length,
        headSize,
      ]);
    };
    const keys = this.keys.map(cut);
    const values = this.values.map(cut);
    this.release();
    this.keys = keys;
    this.values = values;
    this.len = length;
  }

  /** Drop everything (the object stays usable). */
  reset(): void {
    this.assertLive();
    this.release();
    const { numLayers, numKvHeads, headSize, floatType } = this.layout;
    const empty = (): ort.Tensor => emptyFloatTensor(floatType, [1, numKvHeads, 0, headSize]);
    this.keys = Array.from({ length: numLayers }, empty);
    this.values = Array.from({ length: numLayers }, empty);
    this.len = 0;
  }

  /** Free the tensors; the cache cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.release();
    this.keys = [];
    this.values = [];
    this.len = 0;
    this.disposed = true;
  }

  private release(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new EarshotError('E_INTERNAL', 'The KV cache was disposed.');
  }
}
