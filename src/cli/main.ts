import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportCliFailure } from './cli_failure.ts';
import { COMMANDS } from './commands/index.ts';

/** The package version, read once from package.json beside src/. */
export function earshotVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

// Composition root of the CLI: builds the commander program from the explicit command list and runs it.
// Whatever a command throws ends as one `earshot: E_CODE: message` line (cli_failure.ts), never a stack.
export async function main(argv: string[]): Promise<number> {
  const program = new Command('earshot')
    .description('Self-hosted realtime voice agent server around Phi-4-multimodal (OpenAI Realtime protocol)')
    .version(earshotVersion(), '-V, --version', 'print the version and exit')
    .exitOverride()
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    return reportCliFailure(err);
  }
}
