import type { VadConfig } from '../config/schema.ts';
import type { TurnDetectionSettings } from './types.ts';

/** The configured VAD defaults as pipeline settings (a session.update may override them per connection). */
export function turnDetectionFromConfig(vad: VadConfig): TurnDetectionSettings {
  return {
    threshold: vad.threshold,
    refineMarginDb: vad.refine_margin_db,
    refineSearchMs: vad.refine_search_ms,
    prefixPaddingMs: vad.prefix_padding_ms,
    silenceDurationMs: vad.silence_duration_ms,
    minSpeechMs: vad.min_speech_ms,
    maxUtteranceMs: vad.max_utterance_ms,
    splitSearchMs: vad.split_search_ms,
    minSplitPauseMs: vad.min_split_pause_ms,
  };
}
