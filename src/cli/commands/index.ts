import type { Command } from 'commander';
import { registerServeCommand } from './serve.ts';
import { registerVadCommand } from './vad.ts';

// Every CLI command registers itself through one of these functions; the list is explicit so importing a
// module never has side effects.
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerServeCommand, registerVadCommand];
