import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { EarshotError, isEarshotError } from '../errors.ts';
import { reportCliFailure } from './cli_failure.ts';

/** Parses a CLI number flag; commander passes strings. Non-numbers are left for zod to report. */
export function numberFlag(value: string): number | string {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

/** Validates a numeric CLI flag that must be a positive integer (commander has already run numberFlag). */
export function positiveIntFlag(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new EarshotError('E_CONFIG_INVALID', `--${name} must be a positive integer, got ${JSON.stringify(value)}`, {
      param: name,
    });
  }
  return value;
}

export function configOption(): Option {
  return new Option('--config <file>', 'JSON config file (see README: Configuration)');
}

export function withConfigOption(cmd: Command): Command {
  return cmd.addOption(configOption());
}

/** Loads config from file/env/flags, or prints every problem and exits 2 before anything starts. */
export function loadCliConfig(
  configFile: string | undefined,
  overrides: Record<string, Record<string, unknown>>,
): EarshotConfig | null {
  const cleaned: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(overrides)) {
    const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length > 0) cleaned[section] = defined;
  }
  try {
    return loadConfig({ file: configFile, env: process.env, overrides: cleaned });
  } catch (err) {
    if (!isEarshotError(err)) throw err;
    process.stderr.write(`earshot: ${err.message}\n`);
    process.exitCode = 2;
    return null;
  }
}

/** Reports any failure as one line with its stable code (never a stack) and sets a failing exit code. */
export function reportCliError(err: unknown): void {
  process.exitCode = reportCliFailure(err);
}
