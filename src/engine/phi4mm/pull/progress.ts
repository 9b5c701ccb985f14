import cliProgress from 'cli-progress';

// Progress of `earshot model pull`: the events pullModel emits, pure helpers (rate, ETA, formatting) and a
// reporter that draws a cli-progress bar on a TTY or prints a plain line now and then otherwise (logs, CI).

export type PullProgressEvent =
  | {
      type: 'plan';
      dir: string;
      folder: string;
      fileCount: number;
      skippedCount: number;
      /** Files of the hub folder the engine does not use, left on the hub. */
      leftOutCount: number;
      /** Size of every selected file; totalBytes: of those still to fetch; doneBytes: already in .part files. */
      allBytes: number;
      totalBytes: number;
      doneBytes: number;
    }
  | { type: 'file-start'; path: string; sizeBytes: number }
  | { type: 'bytes'; path: string; deltaBytes: number; doneBytes: number }
  | { type: 'retry'; path: string; failures: number; delayMs: number; reason: string }
  | { type: 'file-done'; path: string }
  | { type: 'done'; doneBytes: number };

/** Span of the moving window the speed is averaged over, in ms: long enough to smooth TCP bursts. */
export const RATE_WINDOW_MS = 5_000;

/** Interval between two plain progress lines when stderr is not a terminal, in ms. */
export const PLAIN_PROGRESS_INTERVAL_MS = 10_000;

/** Redraw rate of the TTY bar, in frames per second; more only costs CPU. */
const BAR_FPS = 5;

/** Bytes per second over the last `windowMs`, from (time, cumulative bytes) samples. */
export class TransferRate {
  private readonly samples: { atMs: number; bytes: number }[] = [];

  constructor(private readonly windowMs: number = RATE_WINDOW_MS) {}

  sample(atMs: number, cumulativeBytes: number): void {
    this.samples.push({ atMs, bytes: cumulativeBytes });
    // Keep one sample older than the window so the rate covers the whole window.
    while (this.samples.length > 2 && this.samples[1].atMs <= atMs - this.windowMs) this.samples.shift();
  }

  /** Resets the history (after a dropped partial file the cumulative count goes down). */
  reset(): void {
    this.samples.length = 0;
  }

  bytesPerSecond(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const spanMs = last.atMs - first.atMs;
    return spanMs <= 0 ? 0 : Math.max(0, ((last.bytes - first.bytes) * 1000) / spanMs);
  }
}

/** Seconds left at the current rate, or undefined when the rate is unknown. */
export function etaSeconds(remainingBytes: number, bytesPerSecond: number): number | undefined {
  if (remainingBytes <= 0) return 0;
  if (bytesPerSecond <= 0) return undefined;
  return Math.ceil(remainingBytes / bytesPerSecond);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${BYTE_UNITS[unit]}`;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** A retry wait: sub-second waits in ms, longer ones as a duration. */
export function formatDelay(delayMs: number): string {
  return delayMs < 1000 ? `${Math.round(delayMs)} ms` : formatDuration(delayMs / 1000);
}

export interface ProgressSnapshot {
  doneBytes: number;
  totalBytes: number;
  bytesPerSecond: number;
  file?: string;
}

/** The line printed when stderr is not a terminal. */
export function formatProgressLine(s: ProgressSnapshot): string {
  const percent = s.totalBytes > 0 ? Math.floor((s.doneBytes * 100) / s.totalBytes) : 100;
  const eta = formatDuration(etaSeconds(s.totalBytes - s.doneBytes, s.bytesPerSecond));
  const file = s.file === undefined ? '' : ` ${s.file}`;
  return `${percent}% ${formatBytes(s.doneBytes)}/${formatBytes(s.totalBytes)} ${formatBytes(s.bytesPerSecond)}/s ETA ${eta}${file}`;
}

/** What is about to happen, said before the first byte: the folder, the file count and the total size. */
export function planLine(e: Extract<PullProgressEvent, { type: 'plan' }>): string {
  const notes = [
    e.skippedCount > 0 ? `${e.skippedCount} already complete` : '',
    e.doneBytes > 0 ? `${formatBytes(e.doneBytes)} already in partial files` : '',
    e.leftOutCount > 0 ? `${e.leftOutCount} unused file(s) left on the hub` : '',
  ].filter((n) => n !== '');
  return (
    `Pulling ${e.fileCount} files of ${e.folder} (${formatBytes(e.allBytes)}) into ${e.dir}: ` +
    `${formatBytes(e.totalBytes - e.doneBytes)} to download` +
    (notes.length > 0 ? ` (${notes.join(', ')})` : '')
  );
}

export interface ProgressReporter {
  onProgress(event: PullProgressEvent): void;
  /** Stops the bar (also on failure, so the terminal cursor comes back). */
  stop(): void;
}

export interface ProgressReporterOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Clock in ms; injectable so tests do not depend on wall-clock time. */
  nowMs?: () => number;
  plainIntervalMs?: number;
}

export function createProgressReporter(opts: ProgressReporterOptions): ProgressReporter {
  const nowMs = opts.nowMs ?? (() => performance.now());
  const plainIntervalMs = opts.plainIntervalMs ?? PLAIN_PROGRESS_INTERVAL_MS;
  const rate = new TransferRate();
  const tty = opts.stream.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let totalBytes = 0;
  let doneBytes = 0;
  let file: string | undefined;
  let retryNote: string | undefined;
  let lastPlainMs = Number.NEGATIVE_INFINITY;

  const label = (): string | undefined =>
    file === undefined || retryNote === undefined ? file : `${file} (${retryNote})`;
  const snapshot = (): ProgressSnapshot => ({
    doneBytes,
    totalBytes,
    bytesPerSecond: rate.bytesPerSecond(),
    file: label(),
  });
  const writeLine = (line: string): void => {
    opts.stream.write(`${line}\n`);
  };
  const redraw = (force: boolean): void => {
    const s = snapshot();
    if (bar !== undefined) {
      bar.update(s.doneBytes, {
        done: formatBytes(s.doneBytes),
        total_text: formatBytes(s.totalBytes),
        speed: `${formatBytes(s.bytesPerSecond)}/s`,
        eta_text: formatDuration(etaSeconds(s.totalBytes - s.doneBytes, s.bytesPerSecond)),
        file: s.file ?? '',
      });
    } else if (!tty && (force || nowMs() - lastPlainMs >= plainIntervalMs)) {
      lastPlainMs = nowMs();
      writeLine(formatProgressLine(s));
    }
  };

  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'plan':
          totalBytes = event.totalBytes;
          doneBytes = event.doneBytes;
          rate.sample(nowMs(), doneBytes);
          writeLine(planLine(event));
          if (tty && totalBytes > 0) {
            bar = new cliProgress.SingleBar(
              {
                stream: opts.stream,
                format: '{bar} {percentage}% | {done}/{total_text} | {speed} | ETA {eta_text} | {file}',
                fps: BAR_FPS,
                hideCursor: true,
                barsize: 30,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(totalBytes, doneBytes, { done: '', total_text: '', speed: '', eta_text: '', file: '' });
          }
          redraw(true);
          break;
        case 'file-start':
          file = event.path;
          retryNote = undefined;
          redraw(false);
          break;
        case 'bytes':
          if (event.doneBytes < doneBytes) rate.reset();
          if (event.deltaBytes > 0) retryNote = undefined; // bytes flow again: the retry worked
          doneBytes = event.doneBytes;
          rate.sample(nowMs(), doneBytes);
          redraw(false);
          break;
        case 'retry':
          retryNote = `retry in ${formatDelay(event.delayMs)}: ${event.reason}`;
          if (!tty) writeLine(`retrying ${event.path} in ${formatDelay(event.delayMs)}: ${event.reason}`);
          else redraw(false);
          break;
        case 'file-done':
          retryNote = undefined;
          if (!tty) writeLine(`done ${event.path}`);
          else redraw(false);
          break;
        case 'done':
          doneBytes = event.doneBytes;
          file = undefined;
          redraw(true);
          stop();
          break;
      }
    },
    stop,
  };
}
