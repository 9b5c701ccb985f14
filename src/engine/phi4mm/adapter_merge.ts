// onnxruntime-node cannot feed an adapter: its run() only binds the session's declared inputs, and
// initializer-backed inputs (the export's zero-default LoRA weights) are not among them, so such feeds
// are silently dropped (verified with onnxruntime-node 1.30 in test/unit/generate/audio_adapter.test.ts).
// The working path is to write a copy of the graph whose LoRA initializers hold the adapter's bytes
// and load that file instead. The copy sits next to the original so its external `.data` references
// still resolve; only the small graph file is rewritten, the big weight file is shared.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { EarshotError } from '../../errors.ts';
import type { AdapterFile } from './adapter_types.ts';

const { onnx } = onnxProto;

/** Where the merged copy of `modelPath` for adapter `adapterName` goes (same directory, on purpose). */
export function mergedModelPath(modelPath: string, adapterName: string): string {
  const stem = basename(modelPath).replace(/\.onnx$/, '');
  const tag = adapterName.replace(/[^A-Za-z0-9_-]+/g, '-');
  return join(dirname(modelPath), `${stem}.merged-${tag}.onnx`);
}

/**
 * Write a copy of the ONNX graph at `modelPath` to `outPath` with each adapter tensor stored as the
 * initializer of the same name. Call only after matchAdapterToInputs accepted the adapter.
 */
export function writeAdapterMergedModel(modelPath: string, adapter: AdapterFile, outPath: string): void {
  if (dirname(outPath) !== dirname(modelPath)) {
    throw new EarshotError('E_INTERNAL', 'The merged model must sit next to the original so its external data files resolve.');
  }
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(modelPath));
  } catch (cause) {
    throw new EarshotError('E_MODEL_INVALID', `${modelPath} is not a readable ONNX model.`, { cause });
  }
  const initializers = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const missing: string[] = [];
  for (const p of adapter.parameters) {
    const tensor = initializers.get(p.name);
    if (tensor === undefined) {
      missing.push(p.name);
      continue;
    }
    const dims = (tensor.dims ?? []).map(Number);
    if (dims.length !== p.dims.length || dims.some((d, i) => d !== p.dims[i]) || tensor.dataType !== p.dataType) {
      missing.push(`${p.name} (initializer shape [${dims.join(', ')}] type ${tensor.dataType})`);
      continue;
    }
    tensor.rawData = p.rawData;
    tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    tensor.externalData = [];
    tensor.floatData = [];
    tensor.int32Data = [];
    tensor.int64Data = [];
    tensor.doubleData = [];
    tensor.uint64Data = [];
  }
  if (missing.length > 0) {
    throw new EarshotError('E_MODEL_INVALID', `${modelPath} has no matching initializer for adapter tensors: ${missing.join('; ')}`);
  }
  try {
    writeFileSync(outPath, onnx.ModelProto.encode(model).finish());
  } catch (cause) {
    throw new EarshotError('E_MODEL_INVALID', `Cannot write the adapter-merged model ${outPath} (is the model directory writable?).`, { cause });
  }
}
