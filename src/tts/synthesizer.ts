// The contract every voice (text-to-speech) engine meets, and the streaming stage the agent feeds.
// Phi-4-multimodal answers in text only; spoken answers are synthesised after it, sentence by sentence,
// while the text still streams. This folder depends on audio/, config types and the error catalogue only.

/** Which implementation speaks. `auto` is resolved to one of the others at startup. */
export type SynthesizerName = 'espeak' | 'kokoro' | 'remote';

export interface SynthesisRequest {
  /** One sentence (or clause) of plain text, already split by the caller. */
  text: string;
  /** An engine voice id (the OpenAI names are mapped before this point, by config). */
  voice: string;
  /** 0.25-1.5, 1 = the engine's normal rate. */
  speed: number;
  /** Aborting stops synthesis at once and ends the iterator without an error. */
  signal: AbortSignal;
}

/** Mono signed 16-bit PCM at `sampleRateHz` (each engine's native rate; the caller resamples). */
export interface PcmChunk {
  pcm: Int16Array;
  sampleRateHz: number;
}

export interface Synthesizer {
  readonly name: SynthesizerName;
  /** Engine voice ids this synthesizer accepts. */
  voices(): readonly string[];
  /** Streams one request's audio as it is produced; rejects with an EarshotError on engine failure. */
  synthesize(request: SynthesisRequest): AsyncIterable<PcmChunk>;
  /**
   * Optional hint: a session will speak with this voice and speed soon, so whatever its first sentence
   * would wait for (an espeak-ng process start) can be started now. Never throws; the voice is one
   * voices() accepts.
   */
  warmUp?(voice: string, speed: number): void;
  close(): Promise<void>;
}

/** Output sample rate of every spoken answer before the session's wire format is applied (OpenAI's `audio/pcm`). */
export const SPEECH_OUTPUT_RATE_HZ = 24_000;

/**
 * One answer's speech: text deltas in, 24 kHz PCM out, in order. Sentences are cut as the text arrives
 * (the first one early at a clause), sentence n+1 is synthesised while n is consumed, and cancel() stops
 * everything at once.
 */
export interface SpeechStream {
  push(textDelta: string): void;
  /** No more text: the last partial sentence is spoken and the audio iterator then ends. */
  end(): void;
  /** Stop now: pending synthesis is aborted and the audio iterator ends. */
  cancel(): void;
  /** 24 kHz mono s16 PCM chunks in text order. */
  readonly audio: AsyncIterable<Int16Array>;
  /**
   * Optional: the pieces (sentences, clauses) whose audio has been yielded so far, in order, each with its
   * text and its number of 24 kHz samples. conversation.item.truncate maps played time to text with it;
   * without it the whole answer counts as one piece (characters in proportion to time).
   */
  spokenPieces?(): ReadonlyArray<{ text: string; samples: number }>;
}
