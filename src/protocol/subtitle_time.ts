/**
 * A cue time as 'hh:mm:ss.mmm' (separator '.') for WebVTT or 'hh:mm:ss,mmm' for SRT; hours widen past 99
 * rather than wrap, negative times clamp to 0. Shared by the server's transcript export and the clients'
 * caption export (the clients may import only src/protocol).
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
