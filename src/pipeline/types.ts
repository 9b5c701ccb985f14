// Shared types of the streaming audio pipeline. All times come from the sample clock (16 kHz samples
// received), never from wall time, so a replay faster than real time gives identical results.

export const PIPELINE_SAMPLE_RATE_HZ = 16_000;
export const VAD_WINDOW_SAMPLES = 512; // Silero v4 at 16 kHz: 32 ms windows
export const VAD_WINDOW_MS = (VAD_WINDOW_SAMPLES * 1000) / PIPELINE_SAMPLE_RATE_HZ;

export type UtteranceEndReason = 'silence' | 'max_duration' | 'commit' | 'end_of_stream';

export interface Utterance {
  itemId: string;
  /** 16 kHz mono samples of the utterance's whole audio range (prefix padding and silence hang-over included). */
  pcm16k: Float32Array;
  /** Audio range [startSample, endSample) in 16 kHz samples since the start of the stream. */
  startSample: number;
  endSample: number;
  /** Detected speech onset and offset (end of the last speech window), in ms of audio. */
  speechStartMs: number;
  speechEndMs: number;
  endReason: UtteranceEndReason;
  /** 8 kHz samples of the same range when the source was 8 kHz telephony audio (kept for the model's 8 kHz path). */
  pcm8k?: Float32Array;
}

export function samplesToMs(samples: number): number {
  return (samples * 1000) / PIPELINE_SAMPLE_RATE_HZ;
}

export function msToSamples(ms: number): number {
  return Math.round((ms * PIPELINE_SAMPLE_RATE_HZ) / 1000);
}

/** What flows through the pipeline, in arrival order: audio and control share one lane so a commit or a
 * configuration change takes effect exactly after the audio that preceded it. */
export type PipelineInput =
  | { type: 'audio'; samples16k: Float32Array; samples8k?: Float32Array }
  | { type: 'commit' }
  | { type: 'clear' }
  | { type: 'configure'; turnDetection: TurnDetectionSettings | null }
  | { type: 'end' };

export interface TurnDetectionSettings {
  threshold: number;
  refineMarginDb: number;
  refineSearchMs: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
  minSpeechMs: number;
  maxUtteranceMs: number;
  splitSearchMs: number;
  minSplitPauseMs: number;
}

/** After reframe(): audio keeps its position; complete 512-sample windows are added. */
export type FramedItem =
  | { type: 'audio'; startSample: number; samples16k: Float32Array; samples8k?: Float32Array }
  | { type: 'window'; startSample: number; samples: Float32Array; probability?: number }
  | { type: 'commit' | 'clear' | 'end'; atSample: number }
  | { type: 'configure'; turnDetection: TurnDetectionSettings | null; atSample: number };

export type SegmentEvent =
  | { type: 'speech_started'; itemId: string; audioStartMs: number; speechStartMs: number }
  | { type: 'speech_stopped'; itemId: string; audioEndMs: number; speechEndMs: number }
  | { type: 'utterance'; utterance: Utterance }
  | { type: 'cleared' }
  | { type: 'processed'; samples16k: number }
  | { type: 'error'; code: 'E_BUFFER_EMPTY'; message: string }
  /** A commit has been handled: whatever it produced (an utterance, an error) came before this. */
  | { type: 'commit_handled' };
