// Speech graph: log-mel features -> audio token embeddings (one row of `hidden` floats per audio token).
// The encoder's positional range is 500 tokens (40 s), so features are run in chunks of at most 4000
// frames and the rows concatenated; 4000 is a multiple of 8, so the token count does not change.

import type * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import { chunkFeatures, type AudioFeatures } from './features.ts';
import type { ModelIo } from './model_check.ts';
import { boolTensor, concatRows, floatTensor, int64Tensor, runGraph } from './tensors.ts';

/** audio_projection_mode: 2 = speech only (3 = speech + image, unused by Earshot v1). */
export const SPEECH_PROJECTION_MODE = 2;

export interface AudioEmbedding {
  /** Audio tokens = rows. */
  rows: number;
  /** `[rows, hidden]` in the graphs' float type, ready for the embedding graph. */
  tensor: ort.Tensor;
}

export interface SpeechModel {
  speech: ort.InferenceSession;
  io: Pick<ModelIo, 'floatType' | 'hiddenSize' | 'names'>;
}

export interface EncodeAudioOptions {
  /** Speech-graph LoRA feeds (only when the adapter matched). */
  speechFeeds?: Record<string, ort.Tensor>;
  /** Largest chunk in frames (default 4000). */
  maxChunkFrames?: number;
  signal?: AbortSignal;
}

/** Run the speech encoder over one clip's features. */
export async function encodeAudio(
  model: SpeechModel,
  features: AudioFeatures,
  options: EncodeAudioOptions = {},
): Promise<AudioEmbedding> {
  const { floatType, hiddenSize, names } = model.io;
  const n = names.speech;
  const parts: ort.Tensor[] = [];
  let rows = 0;
  const melBins = features.frames > 0 ? features.data.length / features.frames : 0;
  if (features.frames < 1 || !Number.isInteger(melBins)) {
    throw new EarshotError('E_ENGINE', `Cannot encode audio with ${features.frames} feature frames.`);
  }
  for (const chunk of chunkFeatures(features, options.maxChunkFrames)) {
    if (options.signal?.aborted) throw new EarshotError('E_ABORTED');
    const frames = chunk.frames;
    const feeds: Record<string, ort.Tensor> = {
      ...options.speechFeeds,
      [n.audioEmbeds]: floatTensor(floatType, chunk.data, [1, frames, melBins]),
      [n.attentionMask]: boolTensor(new Uint8Array(frames).fill(1), [1, frames]),
      [n.audioSizes]: int64Tensor([chunk.audioTokens], [1]),
      [n.audioProjectionMode]: int64Tensor([SPEECH_PROJECTION_MODE], [1]),
    };
    const outputs = await runGraph(model.speech, feeds, 'The speech graph failed');
    const out = outputs[n.audioFeatures] as ort.Tensor | undefined;
    if (out === undefined) throw new EarshotError('E_ENGINE', `The speech graph did not return ${n.audioFeatures}.`);
    // [tokens, hidden] per the contract; [1, tokens, hidden] is accepted as well.
    const size = out.dims.reduce((a, b) => a * b, 1);
    const chunkRows = size / hiddenSize;
    if (out.dims.at(-1) !== hiddenSize || chunkRows !== chunk.audioTokens) {
      throw new EarshotError(
        'E_ENGINE',
        `The speech graph returned ${n.audioFeatures} of shape [${out.dims.join(', ')}], expected ${chunk.audioTokens} rows of ${hiddenSize}.`,
      );
    }
    parts.push(out);
    rows += chunkRows;
    for (const [name, t] of Object.entries(outputs)) if (name !== n.audioFeatures) (t as ort.Tensor).dispose();
  }
  if (rows !== features.audioTokens) {
    throw new EarshotError('E_ENGINE', `Audio encoded to ${rows} tokens, expected ${features.audioTokens}.`);
  }
  const tensor = concatRows(floatType, parts, hiddenSize);
  for (const p of parts) p.dispose();
  return { rows, tensor };
}
