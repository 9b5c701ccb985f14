import type { Command } from 'commander';
import { benchSoak, soakTable } from '../../bench/soak_bench.ts';
import { EarshotError } from '../../errors.ts';
import { numberFlag, reportCliError } from '../cli_config.ts';

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
  bench
    .command('soak')
    .description(
      'One realtime session, default config, tiny model, real speech as fast as the server answers: per 10-minute block failures, rebuilds, latency, memory',
    )
    .option(
      '--json',
      'print one JSON object {"audio_minutes","committed","transcribed","transcription_failed","responses_failed","negative_usage_fields","latency_late_over_early","rss_mb_start","rss_mb_end",...,"blocks"}',
    )
    .option('--minutes <n>', 'minutes of audio to send', numberFlag, 60)
    .option('--block-minutes <n>', 'audio minutes per reported block', numberFlag, 10)
    .option('--max-output-tokens <n>', 'answer length the client asks for (default: the server default)', numberFlag)
    .option(
      '--max-wall-minutes <n>',
      'stop sending audio after this wall time and report what was sent (a slow machine still gets whole figures)',
      numberFlag,
    )
    .option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)')
    .action(
      async (opts: {
        json?: boolean;
        minutes: number;
        blockMinutes: number;
        maxOutputTokens?: number;
        maxWallMinutes?: number;
        audio?: string;
      }) => {
        try {
          const positive = [
            ['minutes', opts.minutes],
            ['block-minutes', opts.blockMinutes],
          ] as [string, unknown][];
          if (opts.maxWallMinutes !== undefined) positive.push(['max-wall-minutes', opts.maxWallMinutes]);
          for (const [flag, v] of positive) {
            if (!(typeof v === 'number' && v > 0))
              throw new EarshotError(
                'E_CONFIG_INVALID',
                `--${flag} must be a positive number, got ${JSON.stringify(v)}.`,
              );
          }
          const result = await benchSoak({
            minutes: opts.minutes,
            blockMinutes: opts.blockMinutes,
            audio: opts.audio,
            ...(opts.maxWallMinutes !== undefined ? { maxWallS: opts.maxWallMinutes * 60 } : {}),
            ...(opts.maxOutputTokens ? { session: { max_output_tokens: opts.maxOutputTokens } } : {}),
            progress: (m) => process.stderr.write(`… ${m}\n`),
          });
          const ordered = { ...Object.fromEntries(HEADLINE.map((k) => [k, result[k]])), ...result };
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(ordered)}\n`);
            return;
          }
          process.stdout.write('Soak: one realtime session (tiny model, default config)\n');
          for (const [k, v] of Object.entries(ordered))
            if (k !== 'blocks') process.stdout.write(`  ${k.padEnd(26)} ${v}\n`);
          process.stdout.write(`\n${soakTable(result, opts.blockMinutes)}\n`);
        } catch (err) {
          reportCliError(err);
        }
      },
    );
}
