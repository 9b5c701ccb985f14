import type { Command } from 'commander';
import { configJsonSchema, describeOptions, formatOptions } from '../../config/describe.ts';
import { defaultConfig } from '../../config/schema.ts';
import { ttsWithRemote } from '../../config/tts_schema.ts';
import { openVoiceEngine } from '../../tts/kokoro/startup.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { loadCliConfig, reportCliError, withConfigOption } from '../cli_config.ts';

const silentKokoroLog = { info: () => {}, warn: () => {} };

// `earshot config`: the effective configuration (file, environment and defaults merged), `--defaults` (a
// complete config file of the defaults), `--schema` (every option with its description, type and default;
// the JSON Schema with --json).
export function registerConfigCommand(program: Command): void {
  withConfigOption(
    program
      .command('config')
      .description('Print the effective configuration, the defaults (--defaults) or every option described (--schema)')
      .option('--defaults', 'print the default configuration as a JSON config file')
      .option('--schema', 'print every option with its description, type and default')
      .option('--json', 'with --schema: print the JSON Schema of the config file'),
  ).action(async (opts: { config?: string; defaults?: boolean; schema?: boolean; json?: boolean }) => {
    if (opts.schema) {
      process.stdout.write(
        opts.json ? `${JSON.stringify(configJsonSchema(), null, 2)}\n` : formatOptions(describeOptions()),
      );
      return;
    }
    if (opts.defaults) {
      process.stdout.write(`${JSON.stringify(defaultConfig(), null, 2)}\n`);
      return;
    }
    const config = loadCliConfig(opts.config, {});
    if (!config) return;
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    // Which voice engine `earshot serve` would speak with, on stderr so stdout stays a valid config file.
    // EARSHOT_TTS_URL / EARSHOT_TTS_API_KEY count here as in `earshot serve`.
    let tts = config.tts;
    try {
      tts = ttsWithRemote(config.tts, process.env.EARSHOT_TTS_URL, process.env.EARSHOT_TTS_API_KEY);
    } catch (err) {
      reportCliError(err);
      return;
    }
    // No first-use fetch here (no autoPull): a Kokoro folder counts only when it is complete.
    const voice = await openVoiceEngine(tts, { log: silentKokoroLog, metrics: createMetrics() });
    const detail = voice.status.reason ? ` (${voice.status.reason})` : '';
    process.stderr.write(`voice engine: ${voice.status.engine ?? 'none'} (tts.engine=${tts.engine})${detail}\n`);
    await voice.synthesizer?.close();
  });
}
