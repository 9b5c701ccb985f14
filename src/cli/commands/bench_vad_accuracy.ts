import type { Command } from 'commander';
import { benchVadAccuracy, formatRow, formatTableHeader } from '../../bench/vad_accuracy_bench.ts';
import { loadCliConfig, reportCliError, withConfigOption } from '../cli_config.ts';

export function registerBenchVadAccuracyCommand(bench: Command): void {
  withConfigOption(
    bench
      .command('vad-accuracy')
      .description(
        'Endpoint accuracy of raw Silero vs Earshot on real speech (pocketsphinx-testdata) in white/pink/brown noise at 10-30 dB SNR, 16 kHz PCM and 8 kHz G.711',
      )
      .option('--json', 'print JSON {"conditions":[{"condition","silero":{...},"earshot":{...}}]}'),
  ).action(async (opts: { json?: boolean; config?: string }) => {
    const config = loadCliConfig(opts.config, {});
    if (!config) return;
    try {
      if (!opts.json) process.stdout.write(`${formatTableHeader()}\n`);
      const rows = await benchVadAccuracy({
        vad: config.vad,
        onRow: (row) => !opts.json && process.stdout.write(`${formatRow(row)}\n`),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ conditions: rows })}\n`);
    } catch (err) {
      reportCliError(err);
    }
  });
}
