// How long starting a voice-engine process holds the event loop (part of `earshot bench tts`), started
// directly with spawn() and through the process launcher, in one run. spawn() forks the calling process,
// and fork() copies its page tables while the loop waits, so the cost grows with resident memory: the
// benchmark first allocates and touches `ballastMb` of memory, standing in for the model weights a server
// holds (about 7.6 GB at real size). Figures, not a test: nothing here asserts a speed.
import { spawn } from 'node:child_process';
import { ProcessLauncher, type SpawnWithPipes } from '../../tts/process_launcher.ts';
import { percentile, round } from '../stats.ts';

export interface ProcessStartOptions {
  /** Touched memory held during the measurement, in MB (default 2048). */
  ballastMb?: number;
  /** Processes started per way (default 20). */
  starts?: number;
}

export interface ProcessStartResult {
  /** Median time the event loop was held by one start through the launcher (the default way). */
  process_start_block_ms: number;
  /** The same, spawn() directly: the baseline of the same run. */
  process_start_block_ms_direct: number;
  /** Median time from the start to espeak-ng's first audio byte, through the launcher and directly. */
  first_audio_byte_ms: number;
  first_audio_byte_ms_direct: number;
  ballast_mb: number;
  rss_mb: number;
  starts: number;
}

const SENTENCE = 'The train leaves at ten, from platform nine.';
const ARGS = ['-v', 'en-us', '--stdout', '--stdin'];

export async function measureProcessStart(opts: ProcessStartOptions = {}): Promise<ProcessStartResult> {
  const ballastMb = opts.ballastMb ?? 2048;
  const starts = opts.starts ?? 20;
  const ballast = allocateTouched(ballastMb);
  const launcher = new ProcessLauncher();
  launcher.start();
  try {
    await timeStart(launcher.spawn); // the helper is up before anything is timed
    const direct = { block: [] as number[], firstByte: [] as number[] };
    const launched = { block: [] as number[], firstByte: [] as number[] };
    for (let i = 0; i < starts; i++) {
      record(direct, await timeStart((program, args) => spawn(program, [...args], { stdio: 'pipe' })));
      record(launched, await timeStart(launcher.spawn));
    }
    return {
      process_start_block_ms: median(launched.block),
      process_start_block_ms_direct: median(direct.block),
      first_audio_byte_ms: median(launched.firstByte),
      first_audio_byte_ms_direct: median(direct.firstByte),
      ballast_mb: ballastMb,
      rss_mb: Math.round(process.memoryUsage().rss / 1e6),
      starts,
    };
  } finally {
    launcher.close();
    ballast.length = 0;
  }
}

/** One espeak-ng start: how long the spawn call held the loop, and when its first byte came. */
async function timeStart(start: SpawnWithPipes): Promise<{ blockMs: number; firstByteMs: number }> {
  const t0 = performance.now();
  const child = start('espeak-ng', ARGS);
  const blockMs = performance.now() - t0;
  child.stdin.end(SENTENCE);
  const firstByteMs = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', () => resolve(performance.now() - t0));
    child.once('error', reject);
  });
  child.stdout.resume();
  await new Promise((resolve) => child.once('close', resolve));
  return { blockMs, firstByteMs };
}

function record(into: { block: number[]; firstByte: number[] }, t: { blockMs: number; firstByteMs: number }): void {
  into.block.push(t.blockMs);
  into.firstByte.push(t.firstByteMs);
}

function median(values: number[]): number {
  return round(percentile(values, 50), 2);
}

/** `mb` of memory written once, so it is resident (as loaded weights are). */
function allocateTouched(mb: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let left = mb; left > 0; left -= 256) chunks.push(Buffer.alloc(Math.min(256, left) * 1024 * 1024, 1));
  return chunks;
}
