// The decode loop of a Phi-4 session's generation (phi4_session.ts `generateSteps`): pick a token, add it
// to the open assistant turn, stream its text, feed it back as the next decode step. Kept apart from the
// session's turn log and KV bookkeeping, which it reaches only through `DecodeTarget`, so that the loop's
// stop, length and cancellation rules read in one place.

import type { FinishReason, GenerateOptions, GenerationEvent } from './engine_session.ts';
import { StreamingDetokenizer } from './phi4mm/detokenizer.ts';
import type { Phi4Tokenizer } from './phi4mm/tokenizer.ts';
import { DEFAULT_STOP_IDS } from './phi4mm/tokenizer_ids.ts';

/** How a generation is watched and cancelled (an AbortSignal in process, a shared flag in the worker). */
export interface GenerationControl {
  isCancelled(): boolean;
  onDelta(event: Extract<GenerationEvent, { type: 'delta' }>): void;
  /** Called right before each decode step's graph run. */
  onDecodeStep?(): void;
}

/** What the loop needs from the session. */
export interface DecodeTarget {
  /** The session's room is used up (its length reached the context budget). */
  full(): boolean;
  /** The next id from the logits (masked: never one that only the chat template may write). */
  pick(logits: Float32Array): number;
  /** Adds a picked id to the open assistant turn and to the ids still to be fed. */
  accept(tokenId: number): void;
  /** Feeds the pending ids (one decode step); resolves with the last position's logits. */
  step(): AsyncGenerator<void, Float32Array, void>;
}

export interface DecodeResult {
  text: string;
  finishReason: FinishReason;
  /** Generated ids, the stop id excluded. */
  tokenIds: number[];
  stopTokenId: number | undefined;
}

/** Decodes from `firstLogits` until a stop id, the length cap, a full context or cancellation. */
export async function* decodeLoop(
  target: DecodeTarget,
  tokenizer: Phi4Tokenizer,
  options: GenerateOptions,
  control: GenerationControl,
  firstLogits: Float32Array,
): AsyncGenerator<void, DecodeResult, void> {
  const maxNewTokens = Math.max(0, Math.floor(options.maxNewTokens));
  const stopIds = new Set(options.stopIds ?? DEFAULT_STOP_IDS);
  const detok = new StreamingDetokenizer(tokenizer);
  let logits = firstLogits;
  const tokenIds: number[] = [];
  let text = '';
  let stopTokenId: number | undefined;
  let finishReason: FinishReason = 'length';
  const emit = (delta: string, ids: number[]): void => {
    text += delta;
    control.onDelta({ type: 'delta', text: delta, tokenIds: ids });
  };
  for (;;) {
    if (control.isCancelled()) {
      finishReason = 'aborted';
      break;
    }
    if (tokenIds.length >= maxNewTokens || target.full()) {
      finishReason = 'length';
      break;
    }
    const tokenId = target.pick(logits);
    target.accept(tokenId);
    if (stopIds.has(tokenId)) {
      stopTokenId = tokenId;
      finishReason = 'stop';
      break;
    }
    tokenIds.push(tokenId);
    emit(detok.push(tokenId), [tokenId]);
    if (tokenIds.length >= maxNewTokens || target.full()) {
      finishReason = 'length';
      break;
    }
    yield;
    // Checked after the scheduler ran other sessions' steps, right before this session's next step.
    if (control.isCancelled()) {
      finishReason = 'aborted';
      break;
    }
    control.onDecodeStep?.();
    logits = yield* target.step();
  }
  const tail = detok.flush();
  if (tail.length > 0) emit(tail, []);
  return { text, finishReason, tokenIds, stopTokenId };
}
