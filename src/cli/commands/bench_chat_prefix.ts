import { Option, type Command } from 'commander';
import { benchChatPrefix } from '../../bench/chat_prefix_bench.ts';
import type { FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { modelDirOption, registerBench, sizeOption, stderrProgress } from './bench_command.ts';

/** `earshot bench chat-prefix`: registered on the `earshot bench` parent command. */
export function registerBenchChatPrefixCommand(bench: Command): void {
  registerBench(bench, {
    name: 'chat-prefix',
    description: 'Time to first token of the Nth chat-completions turn with and without prefix reuse, in one run',
    json: 'print JSON {"ttft_ms_reuse_p50","ttft_ms_no_reuse_p50","speedup",...}',
    options: [
      new Option('--preset <preset>', 'generated fixture model (bench is ~1.7 GB, created on first use)')
        .choices(['tiny', 'bench'])
        .default('tiny'),
      modelDirOption(),
      sizeOption('--turns <n>', 'user turns per conversation (the last one is timed)', 8),
      sizeOption('--rounds <n>', 'conversations per mode', 5),
      sizeOption('--answer-tokens <n>', 'answer length per turn, in tokens', 32),
    ],
    run: (opts: {
      json?: boolean;
      preset: FixturePreset;
      model?: string;
      turns: number;
      rounds: number;
      answerTokens: number;
    }) =>
      benchChatPrefix({
        preset: opts.preset,
        modelDir: opts.model,
        turns: opts.turns,
        rounds: opts.rounds,
        answerTokens: opts.answerTokens,
        progress: opts.json ? undefined : stderrProgress,
      }),
    // The per-round times are lists: printed as plain comma-separated numbers.
    print: (result) => {
      process.stdout.write('Chat completions: time to first token of the last turn\n');
      for (const [k, v] of Object.entries(result))
        process.stdout.write(`  ${k.padEnd(26)} ${Array.isArray(v) ? v.join(', ') : v}\n`);
    },
  });
}
