/** A timed line of text; times in ms from the start of the audio. */
export interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

/**
 * Cue text as one block: trimmed, inner blank lines removed (a blank line ends a cue in both formats),
 * CR normalised. Empty cues are dropped by the writers.
 */
function cueLines(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** hh:mm:ss<sep>mmm; hours widen past 99 rather than wrap. Negative times clamp to 0. */
function timestamp(ms: number, separator: '.' | ','): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(millis, 3)}`;
}

function usable(cues: readonly Cue[]): { startMs: number; endMs: number; text: string }[] {
  return cues
    .map((cue) => ({ startMs: cue.startMs, endMs: Math.max(cue.startMs, cue.endMs), text: cueLines(cue.text) }))
    .filter((cue) => cue.text !== '');
}

/** WebVTT (W3C): "WEBVTT", blank line, then numbered cues; `&`, `<` and `>` escaped as the spec requires. */
export function toWebVtt(cues: readonly Cue[]): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const blocks = usable(cues).map(
    (cue, i) => `${i + 1}\n${timestamp(cue.startMs, '.')} --> ${timestamp(cue.endMs, '.')}\n${escape(cue.text)}\n`,
  );
  return blocks.length === 0 ? 'WEBVTT\n' : `WEBVTT\n\n${blocks.join('\n')}`;
}

/** SubRip: numbered cues, comma before milliseconds, a blank line between cues. */
export function toSrt(cues: readonly Cue[]): string {
  return usable(cues)
    .map((cue, i) => `${i + 1}\n${timestamp(cue.startMs, ',')} --> ${timestamp(cue.endMs, ',')}\n${cue.text}\n`)
    .join('\n');
}

/** Plain text: one cue per line. */
export function toPlainText(cues: readonly Cue[]): string {
  const lines = usable(cues).map((cue) => cue.text.replace(/\n/g, ' '));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
