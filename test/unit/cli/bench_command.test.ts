import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { audioOption, numberOption, registerBench, sizeOption } from '../../../src/cli/commands/bench_command.ts';

// The shared shape of `earshot bench <name>`: size flags checked before the run (the first bad one in help
// order reported as one E_CONFIG_INVALID line), and the figures as one JSON line or as text.

let stdout: string;
let stderr: string;

beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

type Opts = { clients: number; seconds: number; minutes: number; wall?: number; audio?: string; json?: boolean };

/** A `bench demo` command whose run records the flags it got and returns two figures. */
function demo(extra: Partial<Parameters<typeof registerBench<Opts, object>>[1]> = {}) {
  const program = new Command('earshot').exitOverride();
  const bench = program.command('bench');
  const runs: Opts[] = [];
  registerBench(bench, {
    name: 'demo',
    description: 'a demo benchmark',
    json: 'print JSON {"lag_ms_p50","rows"}',
    options: [
      sizeOption('--clients <n>', 'concurrent clients', 10),
      sizeOption('--seconds <s>', 'streaming time', 30),
      numberOption('--minutes <n>', 'minutes of audio', 60, true),
      numberOption('--wall <n>', 'wall-time limit', undefined, true),
      audioOption(),
    ],
    run: (opts: Opts) => (runs.push(opts), { lag_ms_p50: 12.5, rows: [1, 2] }),
    print: 'Demo figures',
    ...extra,
  });
  const parse = (...args: string[]) => program.parseAsync(['bench', 'demo', ...args], { from: 'user' });
  return { program, bench, runs, parse };
}

describe('registerBench', () => {
  it('passes the parsed sizes (defaults where not given) and prints a title and one line per figure', async () => {
    const { runs, parse } = demo();
    await parse('--clients', '3', '--minutes', '0.5');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ clients: 3, seconds: 30, minutes: 0.5 });
    expect(runs[0].wall).toBeUndefined();
    expect(stdout).toBe('Demo figures\n  lag_ms_p50       12.5\n  rows             [1,2]\n');
    expect(process.exitCode).toBeUndefined();
  });

  it('--json prints the figures as one JSON line and nothing else', async () => {
    const { parse } = demo();
    await parse('--json');
    expect(stdout).toBe('{"lag_ms_p50":12.5,"rows":[1,2]}\n');
  });

  it('a size that is not a positive integer fails E_CONFIG_INVALID naming the flag, before the run', async () => {
    for (const [value, shown] of [
      ['abc', '"abc"'],
      ['0', '0'],
      ['-2', '-2'],
      ['1.5', '1.5'],
      ['1e', '"1e"'],
    ]) {
      const { runs, parse } = demo();
      stderr = '';
      await parse('--seconds', value);
      expect(runs).toEqual([]);
      expect(stderr).toBe(`earshot: E_CONFIG_INVALID: --seconds must be a positive integer, got ${shown}\n`);
      expect(process.exitCode).toBe(1);
      expect(stdout).toBe('');
    }
  });

  it('reports the first bad flag in help order', async () => {
    const { parse } = demo();
    await parse('--seconds', 'x', '--clients', '0');
    expect(stderr).toBe('earshot: E_CONFIG_INVALID: --clients must be a positive integer, got 0\n');
  });

  it('positive number flags take fractions, refuse 0 and non-numbers, and may be left out when they have no default', async () => {
    const ok = demo();
    await ok.parse('--wall', '0.25');
    expect(ok.runs[0].wall).toBe(0.25);
    for (const [flag, value, shown] of [
      ['--minutes', '0', '0'],
      ['--wall', 'soon', '"soon"'],
    ]) {
      const { runs, parse } = demo();
      stderr = '';
      await parse(flag, value);
      expect(runs).toEqual([]);
      expect(stderr).toBe(`earshot: E_CONFIG_INVALID: ${flag} must be a positive number, got ${shown}.\n`);
    }
  });

  it('a failing run is one line with its code and a failing exit code', async () => {
    const { parse } = demo({
      run: () => {
        throw new Error('no speech');
      },
    });
    await parse();
    expect(stderr).toBe('earshot: E_INTERNAL: no speech\n');
    expect(process.exitCode).toBe(1);
  });

  it("a command's own printer gets the result and the flags; a run that returns nothing prints nothing", async () => {
    const printed: unknown[] = [];
    const custom = demo({ print: (result, opts) => printed.push(result, opts.clients) });
    await custom.parse('--clients', '2');
    expect(printed).toEqual([{ lag_ms_p50: 12.5, rows: [1, 2] }, 2]);
    expect(stdout).toBe('');
    const silent = demo({ run: () => undefined });
    await silent.parse('--json');
    expect(stdout).toBe('');
  });

  it('exitWhenDone ends the process after the figures, and after a failure', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    await demo({ exitWhenDone: true }).parse('--json');
    expect(exit).toHaveBeenCalledTimes(1);
    await demo({ exitWhenDone: true }).parse('--clients', 'x');
    expect(exit).toHaveBeenCalledTimes(2);
  });

  it('help lists --json first, then the flags in order with their defaults', () => {
    const { bench } = demo();
    const help = bench.commands[0].helpInformation();
    const flags = help.match(/^ {2}(-[-\w]+)/gm)!.map((s) => s.trim());
    expect(flags).toEqual(['--json', '--clients', '--seconds', '--minutes', '--wall', '--audio', '-h']);
    expect(help).toContain('concurrent clients (default: 10)');
    expect(help).toContain('print JSON {"lag_ms_p50","rows"}');
  });
});
