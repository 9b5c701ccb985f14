// ONNX Runtime LoRA adapter files (`*.onnx_adapter`), a flatbuffer with file identifier "TORT".
// Schema (onnxruntime/lora/adapter_format/adapter_schema.fbs, format version 1):
//   table Parameter { name:string; dims:[int64]; data_type:TensorDataType (int32); raw_data:[uint8] (force_align: 8); }
//   table Adapter { format_version:int; adapter_version:int; model_version:int; parameters:[Parameter]; }
// onnxruntime-node has no adapter API, so we parse the file ourselves and rewrite the decoder graph with
// its tensors (lora_rewrite.ts). Decoding is bounds-checked by hand (the flatbuffers JS runtime has no verifier),
// so a truncated or foreign file is a clear E_MODEL_INVALID, never a crash or a garbage tensor.

import { Builder } from 'flatbuffers';
import { EarshotError } from '../../errors.ts';
import type { AdapterFile, AdapterParameter } from './adapter_types.ts';

export const ADAPTER_FILE_IDENTIFIER = 'TORT';
export const ADAPTER_FORMAT_VERSION = 1;

export { ADAPTER_DATA_TYPE, type AdapterFile, type AdapterParameter } from './adapter_types.ts';

export interface EncodeAdapterOptions {
  formatVersion?: number;
  adapterVersion?: number;
  modelVersion?: number;
}

/** Serialise parameters into adapter-file bytes (used for fixtures and tests). */
export function encodeAdapter(params: readonly AdapterParameter[], options: EncodeAdapterOptions = {}): Uint8Array {
  const builder = new Builder(
    1024 + params.reduce((n, p) => n + p.rawData.length + p.name.length + 8 * p.dims.length + 64, 0),
  );
  const paramOffsets = params.map((p) => {
    const name = builder.createString(p.name);
    builder.startVector(8, p.dims.length, 8);
    for (let i = p.dims.length - 1; i >= 0; i--) builder.addInt64(BigInt(p.dims[i]));
    const dims = builder.endVector();
    // force_align: 8 on raw_data: pad so the bytes start on an 8-byte boundary.
    builder.prep(8, p.rawData.length);
    const raw = builder.createByteVector(p.rawData);
    builder.startObject(4);
    builder.addFieldOffset(0, name, 0);
    builder.addFieldOffset(1, dims, 0);
    builder.addFieldInt32(2, p.dataType, 0);
    builder.addFieldOffset(3, raw, 0);
    return builder.endObject();
  });
  builder.startVector(4, paramOffsets.length, 4);
  for (let i = paramOffsets.length - 1; i >= 0; i--) builder.addOffset(paramOffsets[i]);
  const parameters = builder.endVector();
  builder.startObject(4);
  builder.addFieldInt32(0, options.formatVersion ?? ADAPTER_FORMAT_VERSION, 0);
  builder.addFieldInt32(1, options.adapterVersion ?? 0, 0);
  builder.addFieldInt32(2, options.modelVersion ?? 0, 0);
  builder.addFieldOffset(3, parameters, 0);
  const root = builder.endObject();
  builder.finish(root, ADAPTER_FILE_IDENTIFIER);
  return builder.asUint8Array().slice();
}

class Reader {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new EarshotError('E_MODEL_INVALID', `Adapter file is corrupt or truncated: ${what}.`);
  }

  check(pos: number, size: number, what: string): void {
    if (!Number.isSafeInteger(pos) || pos < 0 || size < 0 || pos + size > this.bytes.length) this.fail(what);
  }

  u16(pos: number, what: string): number {
    this.check(pos, 2, what);
    return this.view.getUint16(pos, true);
  }

  i32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getInt32(pos, true);
  }

  u32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.view.getUint32(pos, true);
  }

  /** Position of field `index` of the table at `table`, or undefined when absent. */
  field(table: number, index: number, size: number, what: string): number | undefined {
    const vtable = table - this.i32(table, `${what} vtable offset`);
    const vtableSize = this.u16(vtable, `${what} vtable`);
    const tableSize = this.u16(vtable + 2, `${what} vtable`);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`${what} vtable size ${vtableSize}`);
    this.check(vtable, vtableSize, `${what} vtable`);
    this.check(table, tableSize, `${what} table`);
    const slot = 4 + 2 * index;
    if (slot >= vtableSize) return undefined;
    const offset = this.u16(vtable + slot, `${what} field`);
    if (offset === 0) return undefined;
    if (offset + size > tableSize) this.fail(`${what} field ${index} outside its table`);
    return table + offset;
  }

  /** Follow the uoffset stored at `pos`. */
  deref(pos: number, what: string): number {
    const target = pos + this.u32(pos, what);
    this.check(target, 0, what);
    return target;
  }

  /** A vector at `pos` (after deref): start of elements and count. */
  vector(pos: number, elementSize: number, what: string): { start: number; length: number } {
    const length = this.u32(pos, `${what} length`);
    this.check(pos + 4, length * elementSize, `${what} (${length} elements)`);
    return { start: pos + 4, length };
  }

  bytesAt(start: number, length: number): Uint8Array {
    return this.bytes.subarray(start, start + length);
  }

  i64(pos: number, what: string): number {
    this.check(pos, 8, what);
    const value = this.view.getBigInt64(pos, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      this.fail(`${what} out of range`);
    return Number(value);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse adapter-file bytes. Parameter rawData are views into `bytes` (no copy). */
export function decodeAdapter(bytes: Uint8Array): AdapterFile {
  if (bytes.length < 8)
    throw new EarshotError(
      'E_MODEL_INVALID',
      `Adapter file is ${bytes.length} bytes: too short to be an ONNX Runtime adapter.`,
    );
  const identifier = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (identifier !== ADAPTER_FILE_IDENTIFIER) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `Not an ONNX Runtime adapter file: identifier ${JSON.stringify(identifier)}, expected "TORT".`,
    );
  }
  const r: Reader = new Reader(bytes);
  const root = r.deref(0, 'root offset');
  const intField = (index: number, what: string): number => {
    const pos = r.field(root, index, 4, 'adapter');
    return pos === undefined ? 0 : r.i32(pos, what);
  };
  const formatVersion = intField(0, 'format_version');
  if (formatVersion !== ADAPTER_FORMAT_VERSION) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `Adapter format version ${formatVersion} is not supported (expected ${ADAPTER_FORMAT_VERSION}).`,
    );
  }
  const adapterVersion = intField(1, 'adapter_version');
  const modelVersion = intField(2, 'model_version');

  const parameters: AdapterParameter[] = [];
  const paramsPos = r.field(root, 3, 4, 'adapter');
  if (paramsPos !== undefined) {
    const list = r.vector(r.deref(paramsPos, 'parameters'), 4, 'parameters');
    for (let i = 0; i < list.length; i++) {
      const what = `parameter ${i}`;
      const table = r.deref(list.start + 4 * i, what);
      const namePos = r.field(table, 0, 4, what);
      if (namePos === undefined) r.fail(`${what} has no name`);
      const nameVec = r.vector(r.deref(namePos, `${what} name`), 1, `${what} name`);
      let name: string;
      try {
        name = utf8.decode(r.bytesAt(nameVec.start, nameVec.length));
      } catch {
        r.fail(`${what} name is not UTF-8`);
      }
      const dims: number[] = [];
      const dimsPos = r.field(table, 1, 4, what);
      if (dimsPos !== undefined) {
        const dimsVec = r.vector(r.deref(dimsPos, `${name} dims`), 8, `${name} dims`);
        for (let d = 0; d < dimsVec.length; d++) {
          const dim = r.i64(dimsVec.start + 8 * d, `${name} dims`);
          if (dim < 0) r.fail(`${name} has a negative dimension ${dim}`);
          dims.push(dim);
        }
      }
      const typePos = r.field(table, 2, 4, what);
      const dataType = typePos === undefined ? 0 : r.i32(typePos, `${name} data_type`);
      const rawPos = r.field(table, 3, 4, what);
      let rawData: Uint8Array = new Uint8Array(0);
      if (rawPos !== undefined) {
        const rawVec = r.vector(r.deref(rawPos, `${name} raw_data`), 1, `${name} raw_data`);
        rawData = r.bytesAt(rawVec.start, rawVec.length);
      }
      parameters.push({ name, dims, dataType, rawData });
    }
  }
  return { formatVersion, adapterVersion, modelVersion, parameters };
}
