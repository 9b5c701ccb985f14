// Types of ONNX Runtime adapter files, shared by the codec (adapter_format.ts) and the matcher.

/** TensorDataType of the schema (same numbering as ONNX TensorProto.DataType). */
export const ADAPTER_DATA_TYPE = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
} as const;

export interface AdapterParameter {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

export interface AdapterFile {
  formatVersion: number;
  adapterVersion: number;
  modelVersion: number;
  parameters: AdapterParameter[];
}
