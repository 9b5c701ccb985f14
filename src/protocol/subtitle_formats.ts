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

/**
 * The cues a writer emits: empty ones dropped, times on whole milliseconds, and every end at least 1 ms
 * after its start (both formats require end > start).
 */
function usable(cues: readonly Cue[]): Cue[] {
  return cues
    .map((cue) => {
      const startMs = Math.max(0, Math.round(cue.startMs));
      return { startMs, endMs: Math.max(Math.round(cue.endMs), startMs + 1), text: cueText(cue.text) };
    })
    .filter((cue) => cue.text !== '');
}

/** WebVTT cue text is HTML-like: '&', '<' and '>' are escaped, or a player drops or misparses the cue. */
function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** WebVTT (W3C): "WEBVTT", blank line, then numbered cues. */
export function toWebVtt(cues: readonly Cue[]): string {
  const blocks = usable(cues).map(
    (cue, i) => `${i + 1}\n${formatSubtitleTime(cue.startMs, '.')} --> ${formatSubtitleTime(cue.endMs, '.')}\n${escapeVtt(cue.text)}\n`,
  );
  return blocks.length === 0 ? 'WEBVTT\n' : `WEBVTT\n\n${blocks.join('\n')}`;
}

/** SubRip: numbered cues, comma before milliseconds, a blank line between cues. */
export function toSrt(cues: readonly Cue[]): string {
  return usable(cues)
    .map((cue, i) => `${i + 1}\n${formatSubtitleTime(cue.startMs, ',')} --> ${formatSubtitleTime(cue.endMs, ',')}\n${cue.text}\n`)
    .join('\n');
}

/** Plain text: one cue per line. */
export function toPlainText(cues: readonly Cue[]): string {
  const lines = usable(cues).map((cue) => cue.text.replace(/\n/g, ' '));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
