// Capacity-sized KV buffers that GroupQueryAttention appends to in place. One buffer per layer for keys
// and one for values, laid out `[rows, kvHeads, capacity, headSize]`: a row is one session's cache, and a
// run of consecutive rows is a batch the text graph can take as it is (its batch stride is one row).
// When a run feeds `past_key_values.*` and fetches `present.*` as the SAME tensor, GQA sees past and
// present share memory (onnxruntime-genai's past_present_share_buffer) and writes each row's new
// entries right after the row's length, read from the attention mask; nothing is copied on our side.

import * as ort from 'onnxruntime-node';
import type { FloatType } from './tensors.ts';

export type FloatArray = Float32Array | Uint16Array;

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headSize: number;
  floatType: FloatType;
}

function allocFloats(type: FloatType, length: number): FloatArray {
  return type === 'float32' ? new Float32Array(length) : new Uint16Array(length);
}

export class KvStorage {
  readonly keys: FloatArray[];
  readonly values: FloatArray[];
  /** Elements of one row of one layer's key (or value) buffer. */
  readonly rowElements: number;

  constructor(
    readonly shape: KvShape,
    readonly rows: number,
    readonly capacity: number,
  ) {
    this.rowElements = shape.numKvHeads * capacity * shape.headSize;
    const alloc = () => allocFloats(shape.floatType, rows * this.rowElements);
    this.keys = Array.from({ length: shape.numLayers }, alloc);
    this.values = Array.from({ length: shape.numLayers }, alloc);
  }

  /** Bytes of one row over all layers, keys and values. */
  get rowBytes(): number {
    return 2 * this.shape.numLayers * this.rowElements * (this.shape.floatType === 'float32' ? 4 : 2);
  }

  /** `[count, kvHeads, capacity, headSize]` tensors over rows [first, first + count) of every layer. */
  spanTensors(first: number, count: number): { keys: ort.Tensor[]; values: ort.Tensor[] } {
    const dims = [count, this.shape.numKvHeads, this.capacity, this.shape.headSize];
    const view = (data: FloatArray): ort.Tensor =>
      new ort.Tensor(
        this.shape.floatType,
        data.subarray(first * this.rowElements, (first + count) * this.rowElements) as Float32Array & Uint16Array,
        dims,
      );
    return { keys: this.keys.map(view), values: this.values.map(view) };
  }

  /**
   * Copies the first `positions` positions of row `fromRow` of `from` into row `toRow` of this storage
   * (capacities may differ: each head is copied on its own).
   */
  copyRowFrom(from: KvStorage, fromRow: number, toRow: number, positions: number): void {
    const { numKvHeads, headSize } = this.shape;
    const n = positions * headSize;
    const copy = (src: FloatArray, dst: FloatArray): void => {
      for (let h = 0; h < numKvHeads; h++) {
        const s = fromRow * from.rowElements + h * from.capacity * headSize;
        (dst as Float32Array).set(
          (src as Float32Array).subarray(s, s + n),
          toRow * this.rowElements + h * this.capacity * headSize,
        );
      }
    };
    for (let layer = 0; layer < this.shape.numLayers; layer++) {
      copy(from.keys[layer], this.keys[layer]);
      copy(from.values[layer], this.values[layer]);
    }
  }
}

/** Capacity for `needed` positions: rounded up to whole growth chunks plus one chunk, at most `max`. */
export function capacityFor(needed: number, growthTokens: number, max: number): number {
  const chunk = Math.max(1, growthTokens);
  return Math.min(max, Math.ceil((needed + chunk) / chunk) * chunk);
}
