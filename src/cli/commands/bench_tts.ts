import type { Command } from 'commander';
import { benchTts } from '../../bench/tts/tts_bench.ts';
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
    .action(async (opts: { json?: boolean; answers: number; sessions: number; seconds: number }) => {
      try {
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
