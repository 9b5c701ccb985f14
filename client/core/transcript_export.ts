// The session's final captions as WebVTT, SRT or JSON. Cue times are the session audio clock. A caption
// without a known onset starts where the previous one ended; one without a known offset lasts
// FALLBACK_CUE_MS or until the next cue. The subtitle files come from the server's own writers.
import {
  formatSubtitleTime,
  toPlainText,
  toSrt as cuesToSrt,
  toWebVtt as cuesToWebVtt,
} from '../../src/protocol/subtitle_formats.ts';
import type { Caption } from './caption_track.ts';

/** Display time for a cue whose speech offset is unknown (manual commits, failed speech_stopped). */
export const FALLBACK_CUE_MS = 2000;

export interface TimedCaption {
  index: number;
  itemId: string;
  startMs: number;
  endMs: number;
  text: string;
}

export function timeCaptions(captions: readonly Caption[]): TimedCaption[] {
  const out: TimedCaption[] = [];
  let previousEndMs = 0;
  captions.forEach((c, i) => {
    const startMs = Math.max(0, Math.round(c.startMs ?? previousEndMs));
    const nextStart = captions[i + 1]?.startMs;
    let endMs = Math.round(c.endMs ?? Math.min(startMs + FALLBACK_CUE_MS, nextStart ?? Infinity));
    if (endMs <= startMs) endMs = startMs + 1;
    out.push({ index: i + 1, itemId: c.itemId, startMs, endMs, text: c.text });
    previousEndMs = endMs;
  });
  return out;
}

/** 'hh:mm:ss.mmm' (separator '.') for WebVTT, 'hh:mm:ss,mmm' for SRT. */
export const formatTimestamp = formatSubtitleTime;

/** The server's writers (src/protocol/subtitle_formats.ts) on the timed captions: the same files either way. */
export function toWebVtt(captions: readonly Caption[]): string {
  return cuesToWebVtt(timeCaptions(captions));
}

export function toSrt(captions: readonly Caption[]): string {
  return cuesToSrt(timeCaptions(captions));
}

export interface TranscriptJson {
  captions: { index: number; item_id: string; start_ms: number; end_ms: number; text: string }[];
}

export function toTranscriptJson(captions: readonly Caption[]): string {
  const body: TranscriptJson = {
    captions: timeCaptions(captions).map((c) => ({
      index: c.index,
      item_id: c.itemId,
      start_ms: c.startMs,
      end_ms: c.endMs,
      text: c.text,
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

export type ExportFormat = 'vtt' | 'srt' | 'json' | 'txt';

export const EXPORT_MIME: Record<ExportFormat, string> = {
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
  json: 'application/json',
  txt: 'text/plain',
};

export function exportCaptions(captions: readonly Caption[], format: ExportFormat): string {
  if (format === 'vtt') return toWebVtt(captions);
  if (format === 'srt') return toSrt(captions);
  if (format === 'txt') return toPlainText(timeCaptions(captions));
  return toTranscriptJson(captions);
}
