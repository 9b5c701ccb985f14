// The shapes a batched decode step works on, apart from the two implementations (copying and in-place
// caches) so that neither imports the other's module for its types.
import type * as ort from 'onnxruntime-node';
import type { KvCache } from './kv_cache.ts';
import type { InPlaceKvCache } from './kv_cache_in_place.ts';
import type { ModelIo } from './model_check.ts';

export interface BatchedStepModel {
  text: ort.InferenceSession;
  textFeeds?(logits: boolean): Record<string, ort.Tensor>;
  io: Pick<
    ModelIo,
    'numLayers' | 'numKvHeads' | 'headSize' | 'hiddenSize' | 'vocabSize' | 'floatType' | 'names' | 'contextLength'
  >;
}

export interface StepRow {
  /** Rows of one batch are all copying caches or all in-place caches (one engine setting). */
  cache: KvCache | InPlaceKvCache;
  /** `[1, 1, hidden]` embedding of the row's one new token. */
  embeds: ort.Tensor;
  /** Text-graph LoRA feeds of the row's session (rows batched together share them). */
  loraFeeds: Record<string, ort.Tensor>;
}
