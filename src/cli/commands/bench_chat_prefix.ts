import { Option, type Command } from 'commander';
import { benchChatPrefix } from '../../bench/chat_prefix_bench.ts';
import type { FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';

/** `earshot bench chat-prefix`: registered on the `earshot bench` parent command. */
export function registerBenchChatPrefixCommand(bench: Command): void {
  bench
    .command('chat-prefix')
    .description('Time to first token of the Nth chat-completions turn with and without prefix reuse, in one run')
    .option('--json', 'print JSON {"ttft_ms_reuse_p50","ttft_ms_no_reuse_p50","speedup",...}')
    .addOption(
      new Option('--preset <preset>', 'generated fixture model (bench is ~1.7 GB, created on first use)')
        .choices(['tiny', 'bench'])
        .default('tiny'),
    )
    .option('--model <dir>', 'a model directory instead of a generated fixture')
    .option('--turns <n>', 'user turns per conversation (the last one is timed)', numberFlag, 8)
    .option('--rounds <n>', 'conversations per mode', numberFlag, 5)
    .option('--answer-tokens <n>', 'answer length per turn, in tokens', numberFlag, 32)
    .action(
      async (opts: {
        json?: boolean;
        preset: FixturePreset;
        model?: string;
        turns: number;
        rounds: number;
        answerTokens: number;
      }) => {
        try {
          const progress = opts.json ? undefined : (m: string) => process.stderr.write(`… ${m}\n`);
          const result = await benchChatPrefix({
            preset: opts.preset,
            modelDir: opts.model,
            turns: positiveIntFlag('turns', opts.turns),
            rounds: positiveIntFlag('rounds', opts.rounds),
            answerTokens: positiveIntFlag('answer-tokens', opts.answerTokens),
            progress,
          });
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(result)}\n`);
            return;
          }
          process.stdout.write('Chat completions: time to first token of the last turn\n');
          for (const [k, v] of Object.entries(result))
            process.stdout.write(`  ${k.padEnd(26)} ${Array.isArray(v) ? v.join(', ') : v}\n`);
        } catch (err) {
          reportCliError(err);
        }
      },
    );
}
