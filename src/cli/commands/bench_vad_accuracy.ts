import type { Command } from 'commander';
import { benchVadAccuracy, formatRow, formatTableHeader } from '../../bench/vad_accuracy_bench.ts';
import { configOption, loadCliConfig } from '../cli_config.ts';
import { registerBench } from './bench_command.ts';

export function registerBenchVadAccuracyCommand(bench: Command): void {
  registerBench(bench, {
    name: 'vad-accuracy',
    description:
      'Endpoint accuracy of raw Silero vs Earshot on real speech (pocketsphinx-testdata) in white/pink/brown noise at 10-30 dB SNR, 16 kHz PCM and 8 kHz G.711',
    json: 'print JSON {"conditions":[{"condition","silero":{...},"earshot":{...}}]}',
    options: [configOption()],
    run: async (opts: { json?: boolean; config?: string }) => {
      const config = loadCliConfig(opts.config, {});
      if (!config) return undefined;
      // The table is printed row by row as each noise condition is measured (a run takes minutes).
      if (!opts.json) process.stdout.write(`${formatTableHeader()}\n`);
      const rows = await benchVadAccuracy({
        vad: config.vad,
        onRow: (row) => !opts.json && process.stdout.write(`${formatRow(row)}\n`),
      });
      return { conditions: rows };
    },
    print: () => undefined,
  });
}
