// The reference for loop_vs_raw_ratio: a bare onnxruntime decode loop over the same graphs (embedding
// -> text, present tensors fed back as past, argmax), with none of Earshot's session machinery.

import type * as ort from 'onnxruntime-node';
import type { Phi4Model } from '../../engine/phi4mm/onnx_sessions.ts';
import { argmax } from '../../engine/phi4mm/sampling.ts';
import { emptyFloatTensor, int64Tensor, onesMask, readFloats } from '../../engine/phi4mm/tensors.ts';

export interface RawDecodeResult {
  tokenIds: number[];
  decodeMs: number;
  tokensPerSecond: number;
}

/** Prefill `promptIds` in one run, then `decodeTokens` greedy steps; times the decode steps only. */
export async function rawDecode(
  model: Phi4Model,
  promptIds: readonly number[],
  decodeTokens: number,
  maxTokenId: number,
): Promise<RawDecodeResult> {
  const { names, numLayers, numKvHeads, headSize, floatType, hiddenSize, vocabSize } = model.io;
  const e = names.embedding;
  const t = names.text;
  const emptyFeatures = emptyFloatTensor(floatType, [0, hiddenSize]);
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < numLayers; i++) {
    past[t.pastKeys[i]] = emptyFloatTensor(floatType, [1, numKvHeads, 0, headSize]);
    past[t.pastValues[i]] = emptyFloatTensor(floatType, [1, numKvHeads, 0, headSize]);
  }
  let length = 0;
  const step = async (ids: readonly number[]): Promise<number> => {
    const emb = await model.embedding.run({
      [e.inputIds]: int64Tensor(ids, [1, ids.length]),
      [e.imageFeatures]: emptyFeatures,
      [e.audioFeatures]: emptyFeatures,
    });
    length += ids.length;
    const embeds = emb[e.inputsEmbeds];
    const out = await model.text.run({
      ...past,
      ...model.textFeeds(true),
      [t.inputsEmbeds]: embeds,
      [t.attentionMask]: onesMask(length),
    });
    embeds.dispose();
    const next: Record<string, ort.Tensor> = {};
    for (let i = 0; i < numLayers; i++) {
      next[t.pastKeys[i]] = out[t.presentKeys[i]];
      next[t.pastValues[i]] = out[t.presentValues[i]];
    }
    for (const old of Object.values(past)) old.dispose();
    past = next;
    const logits = out[t.logits];
    const token = argmax(readFloats(logits, (ids.length - 1) * vocabSize, vocabSize), maxTokenId);
    logits.dispose();
    return token;
  };
  let token = await step(promptIds);
  const tokenIds = [token];
  const start = performance.now();
  for (let i = 1; i < decodeTokens; i++) {
    token = await step([token]);
    tokenIds.push(token);
  }
  const decodeMs = performance.now() - start;
  return { tokenIds, decodeMs, tokensPerSecond: ((decodeTokens - 1) * 1000) / decodeMs };
}
