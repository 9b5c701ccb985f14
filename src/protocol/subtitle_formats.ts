// Subtitle writers shared by the server (GET /v1/sessions/{id}/transcript, `earshot transcribe`) and the
// browser client's caption export, so a transcript downloaded either way is the same file. Lives in
// src/protocol because the clients may import only from there.

/** A timed line of text; times in ms from the start of the audio. */
export interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

/**
 * A cue time as 'hh:mm:ss.mmm' (separator '.') for WebVTT or 'hh:mm:ss,mmm' for SRT; hours widen past 99
 * rather than wrap, negative times clamp to 0.
 */
export function formatSubtitleTime(ms: number, separator: '.' | ','): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(millis, 3)}`;
}

/**
 * Cue text as one block: CR normalised, lines trimmed, blank lines removed (a blank line ends a cue in both
 * formats) and '-->' shortened to '->' (a line holding the arrow would be read as a timing line).
 */
function cueText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n')
    .replace(/-->/g, '->');
}

/** A cue as a writer emits it: times on whole milliseconds, end at least 1 ms after start; null when empty. */
function usableCue(cue: Cue): Cue | null {
  const startMs = Math.max(0, Math.round(cue.startMs));
  const text = cueText(cue.text);
  return text === '' ? null : { startMs, endMs: Math.max(Math.round(cue.endMs), startMs + 1), text };
}

function usable(cues: readonly Cue[]): Cue[] {
  return cues.map(usableCue).filter((cue): cue is Cue => cue !== null);
}

/** WebVTT cue text is HTML-like: '&', '<' and '>' are escaped, or a player drops or misparses the cue. */
function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export type SubtitleFormat = 'vtt' | 'srt';

/**
 * Writes a subtitle file cue by cue, so a long recording's cues can be printed as each utterance finishes;
 * the concatenated output equals toWebVtt / toSrt of all cues. Each call costs the cue's own length.
 */
export class SubtitleWriter {
  private written = 0;

  constructor(private readonly format: SubtitleFormat) {}

  /** The text to append for one more cue ('' for an empty cue, which both formats drop). */
  cue(input: Cue): string {
    const cue = usableCue(input);
    if (!cue) return '';
    this.written += 1;
    const n = this.written;
    if (this.format === 'srt') {
      const block = `${n}\n${formatSubtitleTime(cue.startMs, ',')} --> ${formatSubtitleTime(cue.endMs, ',')}\n${cue.text}\n`;
      return n === 1 ? block : `\n${block}`;
    }
    const block = `${n}\n${formatSubtitleTime(cue.startMs, '.')} --> ${formatSubtitleTime(cue.endMs, '.')}\n${escapeVtt(cue.text)}\n`;
    return n === 1 ? `WEBVTT\n\n${block}` : `\n${block}`;
  }

  /** The text that closes the file (a WebVTT file with no cue is still a valid file). */
  end(): string {
    return this.format === 'vtt' && this.written === 0 ? 'WEBVTT\n' : '';
  }
}

function writeAll(format: SubtitleFormat, cues: readonly Cue[]): string {
  const writer = new SubtitleWriter(format);
  const parts = cues.map((cue) => writer.cue(cue));
  parts.push(writer.end());
  return parts.join('');
}

/** WebVTT (W3C): "WEBVTT", blank line, then numbered cues. */
export function toWebVtt(cues: readonly Cue[]): string {
  return writeAll('vtt', cues);
}

/** SubRip: numbered cues, comma before milliseconds, a blank line between cues. */
export function toSrt(cues: readonly Cue[]): string {
  return writeAll('srt', cues);
}

/** Plain text: one cue per line. */
export function toPlainText(cues: readonly Cue[]): string {
  const lines = usable(cues).map((cue) => cue.text.replace(/\n/g, ' '));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
