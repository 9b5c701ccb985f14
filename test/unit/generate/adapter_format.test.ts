import { ByteBuffer } from 'flatbuffers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADAPTER_DATA_TYPE,
  decodeAdapter,
  encodeAdapter,
  type AdapterParameter,
} from '../../../src/engine/phi4mm/adapter_format.ts';
import { EarshotError } from '../../../src/errors.ts';

function f16Param(name: string, dims: number[]): AdapterParameter {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Uint16Array(n).map((_, i) => 0x3c00 + i);
  return { name, dims, dataType: ADAPTER_DATA_TYPE.FLOAT16, rawData: new Uint8Array(data.buffer) };
}

const params: AdapterParameter[] = [
  f16Param('model.layers.0.attn.qkv_proj.lora_A.MatMul.weight', [16, 4]),
  {
    name: 'model.layers.0.attn.qkv_proj.lora_B.MatMul.weight_Q4',
    dims: [8, 2, 16],
    dataType: ADAPTER_DATA_TYPE.UINT8,
    rawData: new Uint8Array(256).map((_, i) => i),
  },
  {
    name: 'scales',
    dims: [3],
    dataType: ADAPTER_DATA_TYPE.FLOAT,
    rawData: new Uint8Array(new Float32Array([1.5, -2, 3]).buffer),
  },
];

describe('adapter file format', () => {
  it('round-trips and carries the TORT identifier', () => {
    const bytes = encodeAdapter(params, { adapterVersion: 3, modelVersion: 7 });
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe('TORT');
    const file = decodeAdapter(bytes);
    expect(file).toMatchObject({ formatVersion: 1, adapterVersion: 3, modelVersion: 7 });
    expect(file.parameters.map((p) => [p.name, p.dims, p.dataType])).toEqual(
      params.map((p) => [p.name, p.dims, p.dataType]),
    );
    file.parameters.forEach((p, i) => {
      expect([...p.rawData]).toEqual([...params[i].rawData]);
      expect(p.rawData.byteOffset % 8).toBe(0); // force_align: 8
    });
  });

  it('is readable by the generic flatbuffers reader (field order of adapter_schema.fbs)', () => {
    const bb = new ByteBuffer(encodeAdapter(params));
    expect(bb.__has_identifier('TORT')).toBe(true);
    const root = bb.readInt32(bb.position()) + bb.position();
    const field = (table: number, index: number): number => bb.__offset(table, 4 + 2 * index);
    expect(bb.readInt32(root + field(root, 0))).toBe(1); // format_version
    const paramsVec = root + field(root, 3);
    expect(bb.__vector_len(paramsVec)).toBe(3);
    const p1 = bb.__indirect(bb.__vector(paramsVec) + 4);
    expect(bb.__string(p1 + field(p1, 0))).toBe(params[1].name);
    expect(bb.readInt32(p1 + field(p1, 2))).toBe(ADAPTER_DATA_TYPE.UINT8);
    const dims = p1 + field(p1, 1);
    expect(bb.readInt64(bb.__vector(dims) + 8)).toBe(2n);
  });

  it('rejects foreign files with a clear E_MODEL_INVALID', () => {
    expect(() => decodeAdapter(new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'E_MODEL_INVALID' }));
    const onnx = new Uint8Array(64).fill(0x08);
    expect(() => decodeAdapter(onnx)).toThrow(/identifier/);
    expect(() => decodeAdapter(encodeAdapter(params, { formatVersion: 2 }))).toThrow(/version 2/);
  });

  it('never crashes on truncated or corrupted input (fuzz)', () => {
    const good = encodeAdapter(params);
    const outcome = (bytes: Uint8Array): void => {
      try {
        const file = decodeAdapter(bytes);
        for (const p of file.parameters) {
          expect(p.rawData.byteOffset + p.rawData.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
        }
      } catch (e) {
        expect(e).toBeInstanceOf(EarshotError);
        expect((e as EarshotError).code).toBe('E_MODEL_INVALID');
      }
    };
    for (let len = 0; len < good.length; len++) outcome(good.subarray(0, len));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (edits) => {
          const bytes = good.slice();
          for (const [pos, value] of edits) bytes[pos] = value;
          outcome(bytes);
        },
      ),
      { numRuns: 2000, seed: 3 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => outcome(bytes)),
      { numRuns: 500, seed: 4 },
    );
  });
});
