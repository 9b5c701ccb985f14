// Rollback of a failed session job (phi4_session.ts `rollingBack`). A job may fail anywhere: in a prefill
// chunk, a decode step, the re-prefill of a context rebuild. The turn log is restored exactly (turn
// objects keep their ids arrays, so only their lengths need restoring); the KV cache keeps what is still
// valid. When a rebuild had replaced the cache, the restored conversation is made pending instead: the
// next job feeds it before its own tokens, the same ids and audio as before, so positions, checkpoints and
// the model's view are unchanged.

import type { AudioEmbedding } from './phi4mm/generate_audio.ts';
import type { Turn } from './phi4_session_turns.ts';

export interface SessionSnapshot {
  readonly turns: readonly { turn: Turn; idsLength: number; audio: AudioEmbedding[]; transcript?: string }[];
  readonly nextTurnIndex: number;
  readonly pending: readonly number[];
  readonly pendingAudio: readonly AudioEmbedding[];
  readonly epoch: number;
  /** Tokens in the KV cache when the job started. */
  readonly cacheLength: number;
}

export function takeSnapshot(
  turns: readonly Turn[],
  nextTurnIndex: number,
  pending: readonly number[],
  pendingAudio: readonly AudioEmbedding[],
  epoch: number,
  cacheLength: number,
): SessionSnapshot {
  return {
    turns: turns.map((turn) => ({ turn, idsLength: turn.ids.length, audio: turn.audio, transcript: turn.transcript })),
    nextTurnIndex,
    pending: [...pending],
    pendingAudio: [...pendingAudio],
    epoch,
    cacheLength,
  };
}

export interface RestoredState {
  turns: Turn[];
  pending: number[];
  pendingAudio: AudioEmbedding[];
  /** True when the cache was emptied and the conversation is pending re-prefill. */
  reprefill: boolean;
}

/** Restores the snapshot's turns and truncates `cache` to what is still valid. */
export function restoreSnapshot(
  snapshot: SessionSnapshot,
  cache: { readonly length: number; truncate(length: number): void },
  epochNow: number,
): RestoredState {
  const turns = snapshot.turns.map(({ turn, idsLength, audio, transcript }) => {
    turn.ids.length = idsLength;
    turn.audio = audio;
    // A transcript set during the job (setTranscript is not a job) is kept.
    if (turn.transcript === undefined) turn.transcript = transcript;
    return turn;
  });
  if (epochNow === snapshot.epoch && cache.length >= snapshot.cacheLength) {
    cache.truncate(snapshot.cacheLength);
    return { turns, pending: [...snapshot.pending], pendingAudio: [...snapshot.pendingAudio], reprefill: false };
  }
  cache.truncate(0);
  return { turns, pending: turns.flatMap((t) => t.ids), pendingAudio: turns.flatMap((t) => t.audio), reprefill: true };
}

/** The leading clips of `audio` that hold exactly `rows` rows (pending ids were cut at a turn boundary). */
export function trimAudioToRows(audio: readonly AudioEmbedding[], rows: number): AudioEmbedding[] {
  const kept: AudioEmbedding[] = [];
  let total = 0;
  for (const clip of audio) {
    if (total + clip.rows > rows) break;
    kept.push(clip);
    total += clip.rows;
  }
  return kept;
}
