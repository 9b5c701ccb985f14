import type { Command } from 'commander';
import { measureProcessStart } from '../../bench/tts/process_start.ts';
import { benchTts } from '../../bench/tts/tts_bench.ts';
import { measureWebrtcFrameGaps } from '../../bench/tts/webrtc_frames.ts';
import { EarshotError } from '../../errors.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';

const HEADLINE = [
  'ttfa_ms',
  'ttfa_ms_no_clause_marks',
  'espeak_rtf',
  'kokoro_fixture_rtf',
  'webrtc_frame_gap_p99_ms',
  'audio_sessions',
  'process_start_block_ms',
  'process_start_block_ms_direct',
] as const;

/** `earshot bench tts`, registered on the `earshot bench` parent command. */
export function registerBenchTtsCommand(bench: Command): void {
  bench
    .command('tts')
    .description(
      'Spoken answers: time to first audio through a real server (espeak-ng, tiny model), espeak and Kokoro-fixture speed, WebRTC frame pacing with N calls speaking',
    )
    .option(
      '--json',
      'print one JSON object {"ttfa_ms","ttfa_ms_no_clause_marks","espeak_rtf","kokoro_fixture_rtf","webrtc_frame_gap_p99_ms","audio_sessions","process_start_block_ms","process_start_block_ms_direct","details"}',
    )
    .option('--answers <n>', 'answers for the time-to-first-audio median', numberFlag, 20)
    .option('--sessions <n>', 'WebRTC calls speaking at once', numberFlag, 20)
    .option('--seconds <s>', 'seconds of audio each WebRTC call plays', numberFlag, 10)
    .option(
      '--ballast-mb <mb>',
      'memory held while process starts are timed, standing in for the model weights a server holds',
      numberFlag,
      2048,
    )
    .option(
      '--only <part>',
      'measure one part only: "webrtc" (frame pacing) or "process-start" (event-loop time per voice-engine process start); prints its own figures',
    )
    .action(async (opts: BenchTtsFlags) => {
      try {
        if (opts.only !== undefined) {
          await benchOnePart(opts.only, opts);
          return;
        }
        const result = await benchTts({
          answers: positiveIntFlag('answers', opts.answers),
          sessions: positiveIntFlag('sessions', opts.sessions),
          seconds: positiveIntFlag('seconds', opts.seconds),
          ballastMb: ballastFlag(opts.ballastMb),
          progress: (m) => process.stderr.write(`… ${m}\n`),
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        process.stdout.write('Spoken answers\n');
        for (const key of HEADLINE) process.stdout.write(`  ${key.padEnd(26)} ${result[key]}\n`);
        process.stdout.write(`  details                    ${JSON.stringify(result.details)}\n`);
      } catch (err) {
        reportCliError(err);
      }
    });
}

interface BenchTtsFlags {
  json?: boolean;
  answers: number;
  sessions: number;
  seconds: number;
  ballastMb: number;
  only?: string;
}

function ballastFlag(value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new EarshotError('E_CONFIG_INVALID', `--ballast-mb takes a whole number of MB >= 0, got ${value}`, {
      param: 'ballast-mb',
    });
  return value;
}

/** `--only webrtc` / `--only process-start`: one part's figures alone (every key it measures). */
async function benchOnePart(only: string, opts: BenchTtsFlags): Promise<void> {
  const progress = (m: string) => process.stderr.write(`… ${m}\n`);
  let title: string;
  let figures: object;
  if (only === 'webrtc') {
    title = 'WebRTC frame pacing';
    figures = await measureWebrtcFrameGaps({
      sessions: positiveIntFlag('sessions', opts.sessions),
      seconds: positiveIntFlag('seconds', opts.seconds),
      progress,
    });
  } else if (only === 'process-start') {
    title = 'Voice-engine process starts';
    figures = await measureProcessStart({ ballastMb: ballastFlag(opts.ballastMb) });
  } else {
    throw new EarshotError(
      'E_CONFIG_INVALID',
      `--only takes "webrtc" or "process-start", got ${JSON.stringify(only)}`,
      {
        param: 'only',
      },
    );
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  process.stdout.write(`${title}\n`);
  for (const [key, value] of Object.entries(figures)) process.stdout.write(`  ${key.padEnd(32)} ${value}\n`);
}
