// Decide whether a LoRA adapter fits the text graph's LoRA inputs. phi4mm.md section 6: the graph was
// built with rank-256 LoRA inputs (zero defaults = base model) and the speech adapter is reported to be
// rank 320. Feeding anything that does not match would fail inside onnxruntime or, worse, silently
// compute garbage; so the adapter is fed only when EVERY tensor matches name, dtype and shape, and
// otherwise every mismatch is listed so the operator knows exactly why the base model is used.

import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import { decodeAdapter } from './adapter_format.ts';
import { ADAPTER_DATA_TYPE, type AdapterFile, type AdapterParameter } from './adapter_types.ts';

export interface GraphInputInfo {
  name: string;
  /** onnxruntime tensor type ('float32', 'float16', 'uint8'...) or ONNX form ('tensor(float16)'). */
  type: string;
  /** Numbers are fixed; strings (symbolic), null (unspecified) and negative numbers match any size. */
  dims: readonly (number | string | null)[];
}

export type AdapterMatch = { feeds: Record<string, ort.Tensor> } | { mismatches: string[] };

interface DtypeInfo {
  ort: ort.Tensor.Type;
  bytes: number;
}

const DTYPES: Record<number, DtypeInfo> = {
  [ADAPTER_DATA_TYPE.FLOAT]: { ort: 'float32', bytes: 4 },
  [ADAPTER_DATA_TYPE.UINT8]: { ort: 'uint8', bytes: 1 },
  [ADAPTER_DATA_TYPE.INT8]: { ort: 'int8', bytes: 1 },
  [ADAPTER_DATA_TYPE.UINT16]: { ort: 'uint16', bytes: 2 },
  [ADAPTER_DATA_TYPE.INT16]: { ort: 'int16', bytes: 2 },
  [ADAPTER_DATA_TYPE.INT32]: { ort: 'int32', bytes: 4 },
  [ADAPTER_DATA_TYPE.INT64]: { ort: 'int64', bytes: 8 },
  [ADAPTER_DATA_TYPE.BOOL]: { ort: 'bool', bytes: 1 },
  [ADAPTER_DATA_TYPE.FLOAT16]: { ort: 'float16', bytes: 2 },
  [ADAPTER_DATA_TYPE.DOUBLE]: { ort: 'float64', bytes: 8 },
  [ADAPTER_DATA_TYPE.UINT32]: { ort: 'uint32', bytes: 4 },
  [ADAPTER_DATA_TYPE.UINT64]: { ort: 'uint64', bytes: 8 },
};

const ONNX_TYPE_NAMES: Record<string, string> = {
  'tensor(float)': 'float32',
  'tensor(float16)': 'float16',
  'tensor(double)': 'float64',
  'tensor(uint8)': 'uint8',
  'tensor(int8)': 'int8',
  'tensor(uint16)': 'uint16',
  'tensor(int16)': 'int16',
  'tensor(int32)': 'int32',
  'tensor(int64)': 'int64',
  'tensor(uint32)': 'uint32',
  'tensor(uint64)': 'uint64',
  'tensor(bool)': 'bool',
  float: 'float32',
  double: 'float64',
};

function normaliseType(type: string): string {
  return ONNX_TYPE_NAMES[type] ?? type;
}

function dataTypeName(dataType: number): string {
  return DTYPES[dataType]?.ort ?? `TensorDataType ${dataType}`;
}

function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => d ?? '?').join(', ')}]`;
}

function shapeMatches(actual: readonly number[], expected: readonly (number | string | null)[]): boolean {
  if (actual.length !== expected.length) return false;
  return expected.every((d, i) => typeof d !== 'number' || d < 0 || d === actual[i]);
}

function makeTensor(p: AdapterParameter, info: DtypeInfo): ort.Tensor {
  // Typed arrays need their byteOffset aligned to the element size; a file read into a pooled Buffer
  // may not be, so copy in that (rare) case.
  const aligned = p.rawData.byteOffset % info.bytes === 0 ? p.rawData : p.rawData.slice();
  const { buffer, byteOffset } = aligned;
  const count = aligned.byteLength / info.bytes;
  switch (info.ort) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(buffer, byteOffset, count), p.dims);
    case 'float64':
      return new ort.Tensor('float64', new Float64Array(buffer, byteOffset, count), p.dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(buffer, byteOffset, count), p.dims);
    case 'uint16':
      return new ort.Tensor('uint16', new Uint16Array(buffer, byteOffset, count), p.dims);
    case 'int16':
      return new ort.Tensor('int16', new Int16Array(buffer, byteOffset, count), p.dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(buffer, byteOffset, count), p.dims);
    case 'uint32':
      return new ort.Tensor('uint32', new Uint32Array(buffer, byteOffset, count), p.dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(buffer, byteOffset, count), p.dims);
    case 'uint64':
      return new ort.Tensor('uint64', new BigUint64Array(buffer, byteOffset, count), p.dims);
    case 'int8':
      return new ort.Tensor('int8', new Int8Array(buffer, byteOffset, count), p.dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(buffer, byteOffset, count), p.dims);
    default:
      return new ort.Tensor('uint8', new Uint8Array(buffer, byteOffset, count), p.dims);
  }
}

/** Feeds for every adapter tensor when all of them fit a graph input; otherwise the list of reasons. */
export function matchAdapterToInputs(adapter: AdapterFile, graphInputs: readonly GraphInputInfo[]): AdapterMatch {
  const byName = new Map(graphInputs.map((g) => [g.name, g]));
  const mismatches: string[] = [];
  const accepted: { p: AdapterParameter; info: DtypeInfo }[] = [];
  const seen = new Set<string>();
  if (adapter.parameters.length === 0) mismatches.push('the adapter holds no tensors');
  for (const p of adapter.parameters) {
    const problems: string[] = [];
    if (seen.has(p.name)) problems.push('appears twice in the adapter');
    seen.add(p.name);
    const input = byName.get(p.name);
    const info = DTYPES[p.dataType];
    if (info === undefined) problems.push(`unsupported data type ${dataTypeName(p.dataType)}`);
    const elements = p.dims.reduce((n, d) => n * d, 1);
    if (info !== undefined && elements * info.bytes !== p.rawData.length) {
      problems.push(`holds ${p.rawData.length} bytes but shape ${formatDims(p.dims)} of ${info.ort} needs ${elements * info.bytes}`);
    }
    if (input === undefined) {
      problems.push('no graph input has this name');
    } else {
      const expectedType = normaliseType(input.type);
      if (info !== undefined && info.ort !== expectedType) problems.push(`dtype ${info.ort} but the graph input is ${expectedType}`);
      if (!shapeMatches(p.dims, input.dims)) problems.push(`shape ${formatDims(p.dims)} but the graph input is ${formatDims(input.dims)}`);
    }
    if (problems.length > 0) mismatches.push(`${p.name}: ${problems.join('; ')}`);
    else accepted.push({ p, info: info! });
  }
  if (mismatches.length > 0) return { mismatches };
  const feeds: Record<string, ort.Tensor> = {};
  for (const { p, info } of accepted) feeds[p.name] = makeTensor(p, info);
  return { feeds };
}

/** Read and parse an `.onnx_adapter` file. */
export async function loadAdapterFile(path: string): Promise<AdapterFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new EarshotError('E_FILE_NOT_FOUND', `Cannot read adapter file ${path}.`, { cause });
  }
  try {
    return decodeAdapter(bytes);
  } catch (error) {
    if (error instanceof EarshotError) throw new EarshotError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
