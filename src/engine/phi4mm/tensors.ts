// Tensor helpers at the ONNX boundary. The CPU export takes float32, the GPU export float16; Node 20
// has no Float16Array, so float16 tensors are Uint16Array bit patterns and we convert here, once, at
// the edge (only the rows we need: converting a whole 200064-wide logits block would be wasteful).

import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';

export type FloatType = 'float32' | 'float16';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 -> binary16 bits, round to nearest even; overflow -> inf, NaN preserved. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

// 64K-entry decode table: float16 -> float32 is then one lookup per element.
let halfTable: Float32Array | undefined;
function table(): Float32Array {
  if (halfTable !== undefined) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 0x1f) v = mant === 0 ? Infinity : NaN;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    halfTable[h] = sign * v;
  }
  return halfTable;
}

export function float16BitsToFloat32(bits: number): number {
  return table()[bits & 0xffff];
}

export function float32ArrayToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]);
  return out;
}

export function float16ArrayToFloat32(bits: Uint16Array): Float32Array {
  const t = table();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** A float tensor of the graph's boundary type from float32 values. */
export function floatTensor(type: FloatType, values: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', values, dims);
  return new ort.Tensor('float16', float32ArrayToFloat16(values), dims);
}

/** Zero-size float tensor, e.g. `[0, hidden]` features when there is no audio. */
export function emptyFloatTensor(type: FloatType, dims: readonly number[]): ort.Tensor {
  return type === 'float32'
    ? new ort.Tensor('float32', new Float32Array(0), dims)
    : new ort.Tensor('float16', new Uint16Array(0), dims);
}

/**
 * `count` elements from `offset` as float32 without a copy when the tensor is float32 (a view of its
 * buffer, which stays valid after dispose() of a CPU tensor); float16 is converted. For logits rows: a
 * copy of 800 KB per generated token was a tenth of the engine's time in garbage collection.
 */
export function floatRowView(tensor: ort.Tensor, offset: number, count: number): Float32Array {
  if (tensor.type === 'float32') return (tensor.data as Float32Array).subarray(offset, offset + count);
  return readFloats(tensor, offset, count);
}

/** float32 copy of `count` elements starting at `offset` of a float32 or float16 tensor. */
export function readFloats(tensor: ort.Tensor, offset = 0, count?: number): Float32Array {
  const data = tensor.data as Float32Array | Uint16Array;
  const n = count ?? data.length - offset;
  if (tensor.type === 'float32') return (data as Float32Array).slice(offset, offset + n);
  if (tensor.type === 'float16') return float16ArrayToFloat32((data as Uint16Array).subarray(offset, offset + n));
  throw new TypeError(`Expected a float32 or float16 tensor, got ${tensor.type}`);
}

export function int64Tensor(values: readonly number[] | BigInt64Array, dims: readonly number[]): ort.Tensor {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
  return new ort.Tensor('int64', data, dims);
}

/** int64 `[1, length]` all-ones attention mask. */
export function onesMask(length: number): ort.Tensor {
  return new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);
}

export function boolTensor(values: Uint8Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('bool', values, dims);
}

/** Bytes held by a tensor's data. */
export function tensorBytes(tensor: ort.Tensor): number {
  const data = tensor.data as ArrayBufferView;
  return data.byteLength ?? 0;
}

/** Rows [start, start + count) of a row-major `[rows, width]` float tensor, same type, copied. */
export function sliceRows(
  tensor: ort.Tensor,
  width: number,
  start: number,
  count: number,
  dims: readonly number[],
): ort.Tensor {
  const data = tensor.data as Float32Array | Uint16Array;
  const part = data.slice(start * width, (start + count) * width);
  return new ort.Tensor(tensor.type as 'float32' | 'float16', part as Float32Array & Uint16Array, dims);
}

/** Concatenate row-major float tensors of the same type along the first axis into `[rows, width]`. */
export function concatRows(type: FloatType, parts: readonly ort.Tensor[], width: number): ort.Tensor {
  const total = parts.reduce((n, p) => n + (p.data as ArrayLike<number>).length, 0);
  const out = type === 'float32' ? new Float32Array(total) : new Uint16Array(total);
  let offset = 0;
  for (const p of parts) {
    const d = p.data as Float32Array | Uint16Array;
    (out as Float32Array).set(d, offset);
    offset += d.length;
  }
  return new ort.Tensor(type, out as Float32Array & Uint16Array, [total / width, width]);
}

/**
 * `session.run`, with onnxruntime's failure turned into E_ENGINE: "`failure`: <onnxruntime's message>"
 * (e.g. failure "The text graph failed"). `fetches` limits the outputs copied out; a tensor in it is a
 * pre-allocated output (onnxruntime writes into its memory; the returned value is a copy to ignore).
 */
export async function runGraph(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  failure: string,
  fetches?: string[] | Record<string, ort.Tensor | null>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await (fetches ? session.run(feeds, fetches as ort.InferenceSession.FetchesType) : session.run(feeds));
  } catch (cause) {
    throw new EarshotError('E_ENGINE', `${failure}: ${(cause as Error).message}`, { cause });
  }
}
