import type { SerializedError } from '../../engine/worker_protocol.ts';
import type { KokoroPrecision, KokoroVariant } from './model_folder.ts';

// Messages between KokoroRuntime (main thread) and the Kokoro worker thread. Plain structured-clone data;
// audio and ids travel as transferred typed arrays.

export interface KokoroWorkerInit {
  variants: KokoroVariant[];
  /** Input of the load-time speed check (pads included) and the style row it uses. */
  checkIds: BigInt64Array;
  checkStyle: Float32Array;
  intraOpNumThreads: number;
  interOpNumThreads: number;
}

export interface PrecisionCheck {
  precision: KokoroPrecision;
  /** Time of the timed run (after one warm-up run), in ms. */
  runMs?: number;
  audioMs?: number;
  /** runMs / audioMs: below 1 keeps up with real time. */
  rtf?: number;
  /** Why the variant could not be used. */
  error?: string;
}

export type KokoroRequest =
  | { op: 'synthesize'; id: number; ids: BigInt64Array; style: Float32Array; speed: number }
  | { op: 'close' };

export type KokoroReply =
  | { type: 'ready'; precision: KokoroPrecision; checks: PrecisionCheck[] }
  | { type: 'loadError'; error: SerializedError; checks: PrecisionCheck[] }
  | { type: 'audio'; id: number; waveform: Float32Array; runMs: number }
  | { type: 'error'; id: number; error: SerializedError };
