// What a spoken assistant message said and how long its audio is, kept beside the item so that
// conversation.item.truncate can cut the transcript to what the listener heard.
//
// The rule (docs/protocol.md, "Spoken answers"): audio_end_ms is mapped to the text piece by piece. Every
// piece (sentence or clause, as the speech stream cut it) whose audio ended by audio_end_ms is kept whole;
// in the piece playing at that moment, the share of its characters equal to the share of its audio played
// is kept, rounded down to whole words. Without per-piece timing (a speech stream that does not report
// it), the whole answer is one piece.
import type { SpeechStream } from '../tts/synthesizer.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../tts/synthesizer.ts';

export interface SpokenPiece {
  text: string;
  /** 24 kHz samples of this piece's audio. */
  samples: number;
}

export interface SpokenRecord {
  transcript: string;
  samples24k: number;
  pieces: SpokenPiece[];
}

export function spokenRecordOf(transcript: string, samples24k: number, stream: SpeechStream): SpokenRecord {
  const reported = stream.spokenPieces?.() ?? [];
  return { transcript, samples24k, pieces: reported.map((p) => ({ text: p.text, samples: p.samples })) };
}

export function audioMsOf(record: SpokenRecord): number {
  return (record.samples24k * 1000) / SPEECH_OUTPUT_RATE_HZ;
}

/** The transcript as heard up to `audioEndMs` (see the rule above). */
export function heardTranscript(record: SpokenRecord, audioEndMs: number): string {
  const endSamples = Math.round((audioEndMs * SPEECH_OUTPUT_RATE_HZ) / 1000);
  if (endSamples >= record.samples24k) return record.transcript;
  const spans = piecesIn(record);
  let played = 0;
  for (const span of spans) {
    if (played + span.samples <= endSamples) {
      played += span.samples;
      continue;
    }
    const share = span.samples > 0 ? (endSamples - played) / span.samples : 0;
    const chars = Math.floor(share * (span.end - span.start));
    return record.transcript.slice(0, wordCut(record.transcript, span.start, span.start + chars)).trimEnd();
  }
  return record.transcript.slice(0, spans.length > 0 ? spans[spans.length - 1].end : 0).trimEnd();
}

interface Span {
  start: number;
  end: number;
  samples: number;
}

/** The pieces located in the transcript in order; one piece for the whole text when they cannot all be found. */
function piecesIn(record: SpokenRecord): Span[] {
  const whole: Span[] = [{ start: 0, end: record.transcript.length, samples: record.samples24k }];
  if (record.pieces.length === 0) return whole;
  const spans: Span[] = [];
  let cursor = 0;
  for (const piece of record.pieces) {
    const text = piece.text.trim();
    const at = text === '' ? cursor : record.transcript.indexOf(text, cursor);
    if (at < 0) return whole;
    // A piece spans up to the next piece, so the spaces between sentences belong to the one before.
    if (spans.length > 0) spans[spans.length - 1].end = at;
    spans.push({ start: at, end: at + text.length, samples: piece.samples });
    cursor = at + text.length;
  }
  return spans;
}

/** The end of the last whole word inside [start, limit): a word cut by `limit` was not fully heard. */
function wordCut(text: string, start: number, limit: number): number {
  if (limit >= text.length || /\s/.test(text[limit] ?? '')) return limit;
  for (let i = limit - 1; i >= start; i--) if (/\s/.test(text[i])) return i;
  return start;
}
