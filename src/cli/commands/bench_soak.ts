import type { Command } from 'commander';
import { benchSoak, soakTable } from '../../bench/soak_bench.ts';
import { audioOption, numberOption, registerBench, stderrProgress } from './bench_command.ts';

/** The JSON keys a long-session report starts with. */
const HEADLINE = [
  'audio_minutes',
  'committed',
  'transcribed',
  'transcription_failed',
  'responses_failed',
  'negative_usage_fields',
  'latency_late_over_early',
  'rss_mb_start',
  'rss_mb_end',
] as const;

/** `earshot bench soak`, registered on the `earshot bench` parent command. */
export function registerBenchSoakCommand(bench: Command): void {
  registerBench(bench, {
    name: 'soak',
    description:
      'One realtime session, default config, tiny model, real speech as fast as the server answers: per 10-minute block failures, rebuilds, latency, memory',
    json: 'print one JSON object {"audio_minutes","committed","transcribed","transcription_failed","responses_failed","negative_usage_fields","latency_late_over_early","rss_mb_start","rss_mb_end",...,"blocks"}',
    options: [
      numberOption('--minutes <n>', 'minutes of audio to send', 60, true),
      numberOption('--block-minutes <n>', 'audio minutes per reported block', 10, true),
      numberOption('--max-output-tokens <n>', 'answer length the client asks for (default: the server default)'),
      numberOption(
        '--max-wall-minutes <n>',
        'stop sending audio after this wall time and report what was sent (a slow machine still gets whole figures)',
        undefined,
        true,
      ),
      audioOption(),
    ],
    run: async (opts: {
      minutes: number;
      blockMinutes: number;
      maxOutputTokens?: number;
      maxWallMinutes?: number;
      audio?: string;
    }) => {
      const result = await benchSoak({
        minutes: opts.minutes,
        blockMinutes: opts.blockMinutes,
        audio: opts.audio,
        ...(opts.maxWallMinutes !== undefined ? { maxWallS: opts.maxWallMinutes * 60 } : {}),
        ...(opts.maxOutputTokens ? { session: { max_output_tokens: opts.maxOutputTokens } } : {}),
        progress: stderrProgress,
      });
      return { ...Object.fromEntries(HEADLINE.map((k) => [k, result[k]])), ...result };
    },
    print: (result, opts) => {
      process.stdout.write('Soak: one realtime session (tiny model, default config)\n');
      for (const [k, v] of Object.entries(result)) if (k !== 'blocks') process.stdout.write(`  ${k.padEnd(26)} ${v}\n`);
      process.stdout.write(`\n${soakTable(result, opts.blockMinutes)}\n`);
    },
  });
}
