// Messages between EngineHost (main thread) and the engine worker. Everything here is structured-clone
// data; cancellation is not a message but a SharedArrayBuffer per generation (CANCEL_*), read by the
// worker between decode steps, so it never waits behind queued messages.

import { EarshotError, ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { EngineStats, GenerateOptions, ToolSpec } from './engine_session.ts';
import type { EngineInfo, EngineTotals } from './phi4_engine.ts';
import type { FaultSpec } from './fault_injection.ts';

export interface WorkerInit {
  /** Exported Phi-4-multimodal model directory (or a generated fixture). */
  modelDir: string;
  /** Default context budget of sessions in tokens (default 4096, the LongRoPE switch). */
  contextBudgetTokens?: number;
  /** Requests queued or running in the worker before new ones fail with E_ENGINE_BUSY (default 64). */
  maxPendingRequests?: number;
  /** Tokens per prefill run (default 64). */
  prefillChunkTokens?: number;
  /** Rows per batched one-token run (default 16; 1 = off) and the longest session batched (default 1024). */
  batchMaxRows?: number;
  batchMaxContextTokens?: number;
  /** Nice value of the worker thread and onnxruntime's threads (Linux; 0 = unchanged). */
  workerNice?: number;
  /** onnxruntime intra-op threads of the worker's sessions (default: defaultIntraOpThreads(), all cores but one). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  /** Bake the speech LoRA in when it fits (default true). */
  applySpeechAdapter?: boolean;
  /** onnxruntime execution provider (default 'cpu'). */
  executionProvider?: 'cpu' | 'cuda';
  /** KV cache kind (default 'in_place') and an in-place cache's growth chunk in positions. */
  kvCache?: 'in_place' | 'copy';
  kvGrowthTokens?: number;
}

/** Int32 slots of a generation's shared cancel buffer. */
export const CANCEL_FLAG = 0;
/** Decode steps started by the worker (incremented right before each step's graph run). */
export const CANCEL_STEPS = 1;
export const CANCEL_SLOTS = 2;

export interface WorkerSessionState {
  length: number;
  /** Turn counter (Checkpoint.turns). */
  turns: number;
  epoch: number;
  stats: EngineStats;
}

export interface WireCheckpoint {
  length: number;
  turns: number;
  epoch: number;
}

export type AppendRequest =
  | { kind: 'system'; instructions: string; tools?: ToolSpec[] }
  | { kind: 'user'; parts: ({ type: 'text'; text: string } | { type: 'audio'; audioId: string })[] }
  | { kind: 'assistant'; text: string }
  | { kind: 'tool'; resultJson: string };

export type HostRequest =
  | { op: 'encodeAudio'; id: number; pcm: Float32Array; sampleRateHz: 16000 | 8000 }
  | { op: 'releaseAudio'; audioId: string }
  | { op: 'createSession'; id: number; contextBudgetTokens?: number }
  | { op: 'append'; id: number; sessionId: string; append: AppendRequest }
  | { op: 'setTranscript'; sessionId: string; turnIndex: number; transcript: string }
  | { op: 'generate'; id: number; sessionId: string; options: GenerateOptions; cancel: SharedArrayBuffer }
  | { op: 'rewind'; id: number; sessionId: string; checkpoint: WireCheckpoint }
  | { op: 'dispose'; id: number; sessionId: string }
  | { op: 'totals'; id: number }
  // Test hook: arms a graph fault in the worker (fault_injection.ts); without `fault`, only reports.
  | { op: 'injectFault'; id: number; fault?: FaultSpec }
  // Graceful stop: the worker finishes or abandons its current step (never interrupted inside an
  // onnxruntime run), disposes its sessions and ORT sessions, and exits by itself with code 0.
  | { op: 'shutdown' }
  // Crash simulation (tests, operators): the worker exits with code 1 at once. A message is handled
  // between graph runs by construction (run() is synchronous on the worker thread), so unlike
  // worker.terminate() this can never land inside a native run.
  | { op: 'crash' };

export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

export type WorkerMessage =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'loadError'; error: SerializedError }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; data: object; message: string }
  | { type: 'result'; id: number; value?: unknown; session?: WorkerSessionState }
  | { type: 'error'; id: number; error: SerializedError; session?: WorkerSessionState }
  | { type: 'delta'; id: number; text: string; tokenIds: number[] };

export type TotalsResult = EngineTotals & { workerRssBytes?: number };

/** Faults fired so far and still armed. */
export interface FaultReport {
  fired: number;
  pending: number;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof EarshotError) return { code: error.code, message: error.message, retryable: error.retryable };
  return { code: 'E_ENGINE', message: error instanceof Error ? error.message : String(error), retryable: false };
}

export function deserializeError(error: SerializedError): EarshotError {
  const code: ErrorCode = error.code in ERROR_CODES ? error.code : 'E_ENGINE';
  return new EarshotError(code, error.message, { retryable: error.retryable });
}
