import { Option, type Command } from 'commander';
import { benchEngine } from '../../bench/engine/engine_bench.ts';
import type { FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { modelDirOption, registerBench, stderrProgress } from './bench_command.ts';

/** `earshot bench engine`: registered on the `earshot bench` parent command. */
export function registerBenchEngineCommand(bench: Command): void {
  registerBench(bench, {
    name: 'engine',
    description:
      'Engine overhead vs a bare onnxruntime loop, KV reuse at turn 8, event-loop lag under 4 generating sessions, audio front end',
    json: 'print one JSON object {"loop_vs_raw_ratio","kv_reuse_speedup","event_loop_lag_ms_p99","features_40s_ms",...}',
    options: [
      new Option(
        '--preset <preset>',
        'generated fixture model (created in the cache on first use; bench is ~1.7 GB, full ~6.5 GB: set EARSHOT_FIXTURE_CACHE to a disk with room)',
      )
        .choices(['tiny', 'bench', 'full'])
        .default('tiny'),
      modelDirOption(),
    ],
    run: (opts: { json?: boolean; preset: FixturePreset; model?: string }) =>
      benchEngine({
        preset: opts.preset,
        modelDir: opts.model,
        // Progress goes to stderr even with --json (stdout carries only the JSON): the full preset runs for minutes.
        progress: opts.preset === 'full' || !opts.json ? stderrProgress : undefined,
      }),
    print: (result) => {
      process.stdout.write('Engine benchmark\n');
      for (const [k, v] of Object.entries(result)) process.stdout.write(`  ${k.padEnd(28)} ${v}\n`);
    },
  });
}
