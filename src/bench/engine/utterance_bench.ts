// What a caller feels for one 5 s utterance, on one model loaded in this thread:
//   ttft_5s_utterance_ms     log-mel features + speech encoder + prefill of the ASR turn + first token
//   caption_5s_utterance_ms  the same through a 20-token transcript (stop tokens ignored, so exactly 20)
// The audio is a deterministic voiced signal (a fixture model's transcript is meaningless anyway; the
// cost depends on the frame count, not on what is said).

import { buildTaskPrompt, TASK_PROMPTS } from '../../engine/phi4mm/chat_template.ts';
import { extractFeatures } from '../../engine/phi4mm/features.ts';
import { GenerationSession } from '../../engine/phi4mm/generate.ts';
import { encodeAudio } from '../../engine/phi4mm/generate_audio.ts';
import type { Phi4Model } from '../../engine/phi4mm/onnx_sessions.ts';
import type { Phi4Tokenizer } from '../../engine/phi4mm/tokenizer.ts';

export interface UtteranceBenchResult {
  ttftMs: number;
  captionMs: number;
  audioTokens: number;
  promptTokens: number;
}

const SAMPLE_RATE_HZ = 16000;

/** `seconds` of a vowel-like signal: a 140 Hz pulse train's harmonics under a slow amplitude contour. */
function syntheticSpeech(seconds: number): Float32Array {
  const pcm = new Float32Array(seconds * SAMPLE_RATE_HZ);
  for (let i = 0; i < pcm.length; i++) {
    const t = i / SAMPLE_RATE_HZ;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(2 * Math.PI * 140 * h * t) / h;
    pcm[i] = 0.1 * v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t));
  }
  return pcm;
}

export async function benchUtterance(
  model: Phi4Model,
  tokenizer: Phi4Tokenizer,
  prefillChunkTokens: number,
  captionTokens = 20,
): Promise<UtteranceBenchResult> {
  const pcm = syntheticSpeech(5);
  let firstTokenMs = 0;
  const start = performance.now();
  const features = extractFeatures(pcm, SAMPLE_RATE_HZ);
  const audio = await encodeAudio(model, features);
  const prompt = buildTaskPrompt(tokenizer, TASK_PROMPTS.asr(), audio.rows).inputIds;
  const session = new GenerationSession(model, tokenizer, { prefillChunkTokens });
  try {
    await session.generate({ inputIds: prompt, audio: [audio], maxNewTokens: captionTokens, stopIds: [] }, (delta) => {
      if (firstTokenMs === 0 && delta.tokenId !== undefined) firstTokenMs = performance.now() - start;
    });
    return {
      ttftMs: firstTokenMs,
      captionMs: performance.now() - start,
      audioTokens: audio.rows,
      promptTokens: prompt.length,
    };
  } finally {
    session.dispose();
    audio.tensor.dispose();
  }
}
