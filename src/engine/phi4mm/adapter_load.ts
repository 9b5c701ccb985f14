// Resolve the variant's speech LoRA adapter against the loaded graphs: feed it only when every tensor
// matches a LoRA input (name, dtype, shape) of the text or speech graph; otherwise report exactly what
// does not fit and keep the base model (phi4mm.md section 6).

import type * as ort from 'onnxruntime-node';
import type { ValueSignature } from './model_dir.ts';
import type { ModelIo } from './model_check.ts';
import { matchAdapterToInputs, loadAdapterFile, type GraphInputInfo } from './adapter_match.ts';
import type { AdapterFile } from './adapter_types.ts';

export type AdapterResolution =
  | { status: 'fed'; tensorCount: number; textFeeds: Record<string, ort.Tensor>; speechFeeds: Record<string, ort.Tensor> }
  | { status: 'refused'; mismatches: string[] }
  | { status: 'absent' };

function toGraphInput(v: ValueSignature): GraphInputInfo {
  return { name: v.name, type: v.elemType, dims: v.dims };
}

/** Match a parsed adapter against the LoRA inputs of the text and speech graphs. */
export function resolveAdapter(adapter: AdapterFile, io: Pick<ModelIo, 'loraInputDetails'>): AdapterResolution {
  const text = io.loraInputDetails.text.map(toGraphInput);
  const speech = io.loraInputDetails.speech.map(toGraphInput);
  const match = matchAdapterToInputs(adapter, [...text, ...speech]);
  if ('mismatches' in match) return { status: 'refused', mismatches: match.mismatches };
  const textNames = new Set(text.map((t) => t.name));
  const textFeeds: Record<string, ort.Tensor> = {};
  const speechFeeds: Record<string, ort.Tensor> = {};
  for (const [name, tensor] of Object.entries(match.feeds)) {
    if (textNames.has(name)) textFeeds[name] = tensor;
    else speechFeeds[name] = tensor;
  }
  return { status: 'fed', tensorCount: adapter.parameters.length, textFeeds, speechFeeds };
}

/** Load `path` (when given) and resolve it; a corrupt file throws E_MODEL_INVALID. */
export async function resolveAdapterFile(path: string | undefined, io: Pick<ModelIo, 'loraInputDetails'>): Promise<AdapterResolution> {
  if (path === undefined) return { status: 'absent' };
  return resolveAdapter(await loadAdapterFile(path), io);
}
