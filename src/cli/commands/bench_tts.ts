import type { Command } from 'commander';
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
      'print one JSON object {"ttfa_ms","ttfa_ms_no_clause_marks","espeak_rtf","kokoro_fixture_rtf","webrtc_frame_gap_p99_ms","audio_sessions","details"}',
    )
    .option('--answers <n>', 'answers for the time-to-first-audio median', numberFlag, 20)
    .option('--sessions <n>', 'WebRTC calls speaking at once', numberFlag, 20)
    .option('--seconds <s>', 'seconds of audio each WebRTC call plays', numberFlag, 10)
    .option('--only <part>', 'measure one part only: "webrtc" (frame pacing; prints its own figures)')
    .action(async (opts: { json?: boolean; answers: number; sessions: number; seconds: number; only?: string }) => {
      try {
        if (opts.only !== undefined) {
          await benchWebrtcOnly(opts.only, opts);
          return;
        }
        const result = await benchTts({
          answers: positiveIntFlag('answers', opts.answers),
          sessions: positiveIntFlag('sessions', opts.sessions),
          seconds: positiveIntFlag('seconds', opts.seconds),
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

/** `--only webrtc`: the WebRTC pacing figures alone (every key of measureWebrtcFrameGaps). */
async function benchWebrtcOnly(
  only: string,
  opts: { json?: boolean; sessions: number; seconds: number },
): Promise<void> {
  if (only !== 'webrtc')
    throw new EarshotError('E_CONFIG_INVALID', `--only takes "webrtc", got ${JSON.stringify(only)}`, { param: 'only' });
  const webrtc = await measureWebrtcFrameGaps({
    sessions: positiveIntFlag('sessions', opts.sessions),
    seconds: positiveIntFlag('seconds', opts.seconds),
    progress: (m) => process.stderr.write(`… ${m}\n`),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(webrtc)}\n`);
    return;
  }
  process.stdout.write('WebRTC frame pacing\n');
  for (const [key, value] of Object.entries(webrtc)) process.stdout.write(`  ${key.padEnd(32)} ${value}\n`);
}
