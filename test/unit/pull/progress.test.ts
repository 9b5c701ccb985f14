import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createProgressReporter,
  etaSeconds,
  formatBytes,
  formatDelay,
  formatDuration,
  formatProgressLine,
  TransferRate,
} from '../../../src/engine/phi4mm/pull/progress.ts';

function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream: PassThrough & { isTTY?: boolean } = new PassThrough();
  stream.isTTY = isTTY;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('progress helpers', () => {
  it('computes the rate over a moving window', () => {
    const rate = new TransferRate(5_000);
    expect(rate.bytesPerSecond()).toBe(0);
    rate.sample(0, 0);
    rate.sample(1_000, 1_000_000);
    expect(rate.bytesPerSecond()).toBe(1_000_000);
    // Old fast samples leave the window: the rate follows the recent 100 kB/s.
    for (let t = 2_000; t <= 20_000; t += 1_000) rate.sample(t, 1_000_000 + (t - 1_000) * 100);
    expect(rate.bytesPerSecond()).toBeCloseTo(100_000, -3);
  });

  it('estimates the time left', () => {
    expect(etaSeconds(1_000_000, 100_000)).toBe(10);
    expect(etaSeconds(0, 0)).toBe(0);
    expect(etaSeconds(5, 0)).toBeUndefined();
  });

  it('formats bytes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(3.5 * 1024 ** 3)).toBe('3.50 GiB');
    expect(formatBytes(250 * 1024 ** 2)).toBe('250 MiB');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDelay(200)).toBe('200 ms');
    expect(formatDelay(2_000)).toBe('2s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3_720)).toBe('1h02m');
  });

  it('formats a plain line with bytes, speed and ETA', () => {
    expect(
      formatProgressLine({
        doneBytes: 512 * 1024 ** 2,
        totalBytes: 1024 ** 3,
        bytesPerSecond: 8 * 1024 ** 2,
        file: 'a.onnx',
      }),
    ).toBe('50% 512 MiB/1.00 GiB 8.00 MiB/s ETA 1m04s a.onnx');
  });
});

describe('progress reporter', () => {
  it('prints periodic plain lines when the stream is not a terminal', () => {
    const out = capture(false);
    let now = 0;
    const reporter = createProgressReporter({ stream: out.stream, nowMs: () => now, plainIntervalMs: 10_000 });
    reporter.onProgress({
      type: 'plan',
      dir: '/m',
      folder: 'gpu/x',
      fileCount: 2,
      skippedCount: 1,
      leftOutCount: 3,
      allBytes: 1500,
      totalBytes: 1000,
      doneBytes: 0,
    });
    reporter.onProgress({ type: 'file-start', path: 'a.onnx', sizeBytes: 1000 });
    for (let i = 1; i <= 10; i += 1) {
      now = i * 3_000;
      reporter.onProgress({ type: 'bytes', path: 'a.onnx', deltaBytes: 100, doneBytes: i * 100 });
    }
    reporter.onProgress({ type: 'retry', path: 'a.onnx', failures: 1, delayMs: 2_000, reason: 'ECONNRESET' });
    reporter.onProgress({ type: 'done', doneBytes: 1000 });
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toBe(
      'Pulling 2 files of gpu/x (1.46 KiB) into /m: 1000 B to download (1 already complete, 3 unused file(s) left on the hub)',
    );
    // plan line, at 0 s, then every >= 10 s of clock (12 s, 24 s), the retry, then the final line.
    expect(lines.filter((l) => /^\d+% /.test(l))).toHaveLength(4);
    expect(lines).toContain('retrying a.onnx in 2s: ECONNRESET');
    expect(lines.at(-1)).toMatch(/^100% 1000 B\/1000 B /);
    expect(out.text()).not.toContain('\x1B');
  });

  it('draws a cli-progress bar on a terminal', () => {
    const out = capture(true);
    const reporter = createProgressReporter({ stream: out.stream, nowMs: () => 0 });
    reporter.onProgress({
      type: 'plan',
      dir: '/m',
      folder: 'gpu/x',
      fileCount: 1,
      skippedCount: 0,
      leftOutCount: 0,
      allBytes: 2048,
      totalBytes: 2048,
      doneBytes: 0,
    });
    reporter.onProgress({ type: 'file-start', path: 'a.onnx', sizeBytes: 2048 });
    reporter.onProgress({ type: 'bytes', path: 'a.onnx', deltaBytes: 2048, doneBytes: 2048 });
    reporter.onProgress({ type: 'done', doneBytes: 2048 });
    const text = out.text();
    expect(text).toContain('100%');
    expect(text).toContain('2.00 KiB/2.00 KiB');
    expect(text).toContain('\x1B[?25h'); // cursor shown again after stop
  });
});
