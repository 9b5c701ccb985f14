import { formatSubtitleTime } from '../protocol/subtitle_time.ts';

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

function usable(cues: readonly Cue[]): { startMs: number; endMs: number; text: string }[] {
  return cues
    .map((cue) => ({ startMs: cue.startMs, endMs: Math.max(cue.startMs, cue.endMs), text: cueLines(cue.text) }))
    .filter((cue) => cue.text !== '');
}

/** WebVTT (W3C): "WEBVTT", blank line, then numbered cues; `&`, `<` and `>` escaped as the spec requires. */
export function toWebVtt(cues: readonly Cue[]): string {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const blocks = usable(cues).map(
    (cue, i) => `${i + 1}\n${formatSubtitleTime(cue.startMs, '.')} --> ${formatSubtitleTime(cue.endMs, '.')}\n${escape(cue.text)}\n`,
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
