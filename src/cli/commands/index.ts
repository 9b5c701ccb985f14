import type { Command } from 'commander';
import { registerAgentsCommand } from './agents.ts';
import { registerBenchCommand } from './bench.ts';
import { registerConfigCommand } from './config.ts';
import { registerFeaturesCommand } from './features.ts';
import { registerModelCheckCommand } from './model_check.ts';
import { registerModelFixtureCommand } from './model_fixture.ts';
import { registerModelPullCommand } from './model_pull.ts';
import { registerServeCommand } from './serve.ts';
import { registerStreamCommand } from './stream.ts';
import { registerToolsCommand } from './tools.ts';
import { registerTranscribeCommand } from './transcribe.ts';
import { registerVadCommand } from './vad.ts';

// Every CLI command registers itself through one of these functions; the list is explicit so importing a
// module never has side effects.
export type RegisterCommand = (program: Command) => void;

function registerModelCommands(program: Command): void {
  const model = program.command('model').description('Phi-4-multimodal ONNX model: pull, check, fixture');
  registerModelPullCommand(model);
  registerModelCheckCommand(model);
  registerModelFixtureCommand(model);
}

export const COMMANDS: RegisterCommand[] = [
  registerServeCommand,
  registerVadCommand,
  registerFeaturesCommand,
  registerTranscribeCommand,
  (program) => registerStreamCommand(program),
  registerModelCommands,
  registerAgentsCommand,
  registerToolsCommand,
  registerBenchCommand,
  registerConfigCommand,
];
