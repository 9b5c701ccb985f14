// The response bodies of /v1/audio/transcriptions and /v1/audio/translations, one per response_format,
// shaped as OpenAI's (the openai package's Transcription, TranscriptionVerbose and plain text types).
import { toSrt, toWebVtt } from '../protocol/subtitle_formats.ts';
import type { AudioTask, TranscriptionResult } from './transcription_runner.ts';

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

export interface FormattedBody {
  contentType: string;
  body: string;
}

export function usageJson(result: TranscriptionResult) {
  const { inputTokens, audioTokens, outputTokens } = result.usage;
  return {
    type: 'tokens' as const,
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    input_token_details: { audio_tokens: audioTokens, text_tokens: inputTokens - audioTokens },
  };
}

/**
 * Segments are the VAD's utterances, timed on the audio's sample clock. Fields OpenAI fills from
 * Whisper's decoder statistics (avg_logprob, compression_ratio, no_speech_prob) are left out rather
 * than invented; `seek` is the segment's start in 10 ms frames as Whisper counts it.
 */
export function verboseJson(task: AudioTask, result: TranscriptionResult, language: string | undefined) {
  return {
    task: task === 'transcribe' ? 'transcribe' : 'translate',
    language: task === 'translate' ? 'english' : (language ?? 'unknown'),
    duration: result.durationMs / 1000,
    text: result.text,
    segments: result.segments.map((s) => ({
      id: s.id,
      seek: Math.round(s.startMs / 10),
      start: s.startMs / 1000,
      end: s.endMs / 1000,
      text: s.text,
      tokens: s.tokenIds,
      temperature: 0,
    })),
    usage: usageJson(result),
  };
}

export function formatTranscription(
  format: ResponseFormat,
  task: AudioTask,
  result: TranscriptionResult,
  language: string | undefined,
): FormattedBody {
  // Empty utterances (noise the VAD took for speech) have no cue.
  const cues = result.segments
    .filter((s) => s.text !== '')
    .map((s) => ({ startMs: s.startMs, endMs: s.endMs, text: s.text }));
  switch (format) {
    case 'json':
      return json({ text: result.text, usage: usageJson(result) });
    case 'verbose_json':
      return json(verboseJson(task, result, language));
    case 'text':
      return { contentType: 'text/plain; charset=utf-8', body: `${result.text}\n` };
    case 'srt':
      return { contentType: 'text/plain; charset=utf-8', body: toSrt(cues) };
    case 'vtt':
      return { contentType: 'text/vtt; charset=utf-8', body: toWebVtt(cues) };
  }
}

function json(value: unknown): FormattedBody {
  return { contentType: 'application/json', body: JSON.stringify(value) };
}
