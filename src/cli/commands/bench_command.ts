// The shape every `earshot bench <name>` command shares: a description, `--json`, its own flags, a run of a
// src/bench/ function, and its figures printed as one JSON line or as text. Size flags are declared here
// once (parsed by numberFlag, checked before the run), so each command is only what differs.
import { type Command, Option } from 'commander';
import { EarshotError } from '../../errors.ts';
import { numberFlag, positiveIntFlag, reportCliError } from '../cli_config.ts';
import { printBenchResult } from './bench_print.ts';

/** What `bench` prints while it runs: one line per step on stderr, so stdout carries only the figures. */
export const stderrProgress = (message: string): void => void process.stderr.write(`… ${message}\n`);

/** A numeric flag: parsed by numberFlag, and checked before the run when `check` is set. */
class NumberOption extends Option {
  check?: 'positive-integer' | 'positive-number';
}

/** A size (`--seconds <s>`, `--clients <n>`): must be a positive integer, or the command fails E_CONFIG_INVALID. */
export function sizeOption(flags: string, help: string, fallback: number): Option {
  const option = new NumberOption(flags, help).default(fallback).argParser(numberFlag) as NumberOption;
  option.check = 'positive-integer';
  return option;
}

/** A number flag; with `positive`, a value given must be a number above 0 (fractions allowed). */
export function numberOption(flags: string, help: string, fallback?: number, positive = false): Option {
  const option = new NumberOption(flags, help).argParser(numberFlag) as NumberOption;
  if (fallback !== undefined) option.default(fallback);
  if (positive) option.check = 'positive-number';
  return option;
}

/** `--audio <file>`: the speech the audio benchmarks stream. */
export const audioOption = (): Option =>
  new Option('--audio <file>', 'speech WAV (default: pocketsphinx-testdata LibriVox excerpts)');

/** `--model <dir>`: the engine benchmarks' escape from the generated fixtures. */
export const modelDirOption = (): Option =>
  new Option('--model <dir>', 'a model directory instead of a generated fixture');

export type BenchFlags = { json?: boolean };

export interface BenchCommandSpec<O extends object, R extends object> {
  name: string;
  description: string;
  /** Help of `--json`: the keys of the one JSON line it prints. */
  json: string;
  /** The flags after `--json`, in help order. */
  options?: Option[];
  /** Runs the benchmark with the parsed flags (sizes already checked); undefined when it has reported a failure itself. */
  run: (opts: O & BenchFlags) => R | undefined | Promise<R | undefined>;
  /** Text output: a title over one line per figure (keys `keyWidth` wide), or a printer of the command's own. */
  print: string | ((result: R, opts: O & BenchFlags) => void);
  keyWidth?: number;
  /** End the process once the figures (or the failure) are written: for runs whose libraries leave timers behind. */
  exitWhenDone?: boolean;
}

/** Registers `bench <spec.name>` on the `bench` parent command. */
export function registerBench<O extends object, R extends object>(
  bench: Command,
  spec: BenchCommandSpec<O, R>,
): Command {
  const command = bench.command(spec.name).description(spec.description).option('--json', spec.json);
  for (const option of spec.options ?? []) command.addOption(option);
  return command.action(async (opts: O & BenchFlags) => {
    try {
      checkNumbers(command, opts);
      const result = await spec.run(opts);
      if (result !== undefined) printResult(spec, result, opts);
    } catch (err) {
      reportCliError(err);
    }
    if (spec.exitWhenDone) process.exit();
  });
}

function printResult<O extends object, R extends object>(
  spec: BenchCommandSpec<O, R>,
  result: R,
  opts: O & BenchFlags,
): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (typeof spec.print === 'string') printBenchResult(result, false, spec.print, spec.keyWidth);
  else spec.print(result, opts);
}

/** Checks the command's checked number flags in help order, so the first bad one is the one reported. */
export function checkNumbers(command: Command, opts: object): void {
  const values = opts as Record<string, unknown>;
  for (const option of command.options) {
    if (!(option instanceof NumberOption) || option.check === undefined) continue;
    const value = values[option.attributeName()];
    if (option.check === 'positive-integer') positiveIntFlag(option.name(), value);
    else if (value !== undefined && !(typeof value === 'number' && value > 0))
      throw new EarshotError(
        'E_CONFIG_INVALID',
        `--${option.name()} must be a positive number, got ${JSON.stringify(value)}.`,
      );
  }
}
