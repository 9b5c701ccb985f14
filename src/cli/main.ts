import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.ts';

// Composition root of the CLI: builds the commander program from the explicit command list and runs it.
export async function main(argv: string[]): Promise<number> {
  const program = new Command('earshot')
    .description('Self-hosted realtime voice agent server around Phi-4-multimodal (OpenAI Realtime protocol)')
    .exitOverride()
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
}
