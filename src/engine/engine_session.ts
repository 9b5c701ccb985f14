// The runtime-neutral engine interface: what the agent runtime and the session layer use, whatever runs
// the model (the Phi-4 engine in a worker thread, or the scripted engine of agent-logic tests).
// Nothing here depends on RxJS, transports or the wire protocol.
import type { FinishReason } from './phi4mm/generate.ts';
import type { SamplingOptions } from './phi4mm/sampling.ts';

// Defined once, by the generation code; the engine interface speaks the same terms.
export type { FinishReason, SamplingOptions };

/** Speech encoded once per utterance, reusable by several branches (ASR, translation, the answer). */
export interface AudioHandle {
  readonly id: string;
  readonly audioTokens: number;
  readonly durationMs: number;
}

/** A tool as the model sees it: JSON-schema parameters (converted to Phi's tool format by the engine). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type UserPart = { type: 'text'; text: string } | { type: 'audio'; audio: AudioHandle };

export interface GenerateOptions {
  maxNewTokens: number;
  /** Greedy when absent. */
  sampling?: SamplingOptions;
  /** Defaults to the model's end-of-turn ids. */
  stopIds?: number[];
  /**
   * Text the assistant turn starts with, written after `<|assistant|>` before the first generated token
   * (tool_choice: `<|tool_call|>` forces a call). Tokenized with the tags recognised; part of the turn in
   * the session, but not in the deltas or the done text (the caller knows it).
   */
  assistantPrefix?: string;
}

export interface TokenUsage {
  /** Tokens this generation fed (its own prompt turn and what was pending). */
  promptTokens: number;
  completionTokens: number;
  /** Tokens the generation attended to: the whole context when its first token was picked (after any rebuild). */
  contextTokens?: number;
  /** Of those, audio positions (audio already replaced by a transcript no longer counts). */
  audioTokens?: number;
}

export type GenerationEvent =
  | { type: 'delta'; text: string; tokenIds: number[] }
  | { type: 'done'; text: string; finishReason: FinishReason; usage: TokenUsage };

export interface Checkpoint {
  /** Session length (tokens) when the checkpoint was taken. */
  readonly length: number;
  /** Turns in the session's log at that point. */
  readonly turns: number;
}

/** Identifies an appended user turn, e.g. to attach its transcript for later context compaction. */
export interface TurnRef {
  readonly index: number;
}

export interface EngineStats {
  /** Tokens in the KV cache. */
  tokens: number;
  kvBytes: number;
  contextBudgetTokens: number;
  /** Times the context was rebuilt (old audio replaced by transcripts, oldest turns dropped). */
  rebuilds: number;
  /** Audio positions in the context now (absent: the engine does not count them). */
  audioTokens?: number;
}

/**
 * One persistent KV-cache conversation. Appends prefill only their own tokens; `checkpoint` + `rewind`
 * make side passes (ASR captions, translation) branches that leave no trace: a rewound session is
 * indistinguishable from one that never saw the rewound tokens.
 */
export interface EngineSession {
  readonly length: number;
  appendSystem(content: { instructions: string; tools?: ToolSpec[] }): Promise<void>;
  appendUser(parts: UserPart[]): Promise<TurnRef>;
  /** Text the assistant said (when not produced by generate(), e.g. a client-provided item). */
  appendAssistant(text: string): Promise<void>;
  /** A tool's result (JSON text), fed back as <|tool_response|>. */
  appendToolResponse(resultJson: string): Promise<void>;
  /** Records a user turn's transcript so that a context rebuild can replace its audio with text. */
  setTranscript(turn: TurnRef, transcript: string): void;
  /** Generates an assistant turn after `<|assistant|>`; the generated text stays in the session. */
  generate(options: GenerateOptions, signal?: AbortSignal): AsyncIterable<GenerationEvent>;
  checkpoint(): Checkpoint;
  rewind(checkpoint: Checkpoint): Promise<void>;
  stats(): EngineStats;
  dispose(): Promise<void>;
}

/** One loaded model serving many sessions. */
export interface SpeechEngine {
  /** Speech encoder once per utterance. 8 kHz audio uses the model's telephony path (never upsampled). */
  encodeAudio(pcm: Float32Array, sampleRateHz: 16000 | 8000): Promise<AudioHandle>;
  releaseAudio(handle: AudioHandle): void;
  createSession(options?: { contextBudgetTokens?: number }): Promise<EngineSession>;
  close(): Promise<void>;
}
