import type { Command } from 'commander';
import { checkModelDir, formatDifferences } from '../../engine/phi4mm/model_check.ts';
import { resolve } from 'node:path';

// `earshot model check DIR`: verifies a model directory against the inference contract and lists
// every difference at once. Exit code 1 when the directory is not usable.

export function registerModelCheckCommand(model: Command): void {
  model
    .command('check')
    .description('Verify that a model directory matches the Phi-4-multimodal ONNX layout Earshot expects')
    .argument('<dir>', 'model directory (the folder holding genai_config.json)')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const result = await checkModelDir(dir);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else if (result.ok) {
        const s = result.summary;
        const lines = [
          `OK: ${s.dir}`,
          `  float type ${s.floatType}, ${s.numLayers} layers, hidden ${s.hiddenSize}, vocab ${s.vocabSize}`,
          `  LoRA inputs with zero defaults: speech ${s.loraInputs.speech}, text ${s.loraInputs.text}`,
          `  vision: ${s.vision ? 'present' : 'absent'}`,
          ...s.files.map((f) => `  ${f.name} (${f.sizeBytes} bytes)`),
          ...s.notes.map((n) => `  note: ${n}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } else {
        process.stderr.write(`${formatDifferences(resolve(dir), result.differences)}\n`);
      }
      if (!result.ok) process.exitCode = 1;
    });
}
