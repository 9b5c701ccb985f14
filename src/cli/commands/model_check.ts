import type { Command } from 'commander';
import { formatModelReport, modelReport } from '../../engine/phi4mm/model_report.ts';

// `earshot model check DIR`: verifies a model directory against the inference contract, lists every
// difference at once, and says what the engine's load-time LoRA rewrite will do (speech adapter applied,
// refused or absent; LoRA graph inputs left). Exit code 1 when the directory is not fully usable.

export function registerModelCheckCommand(model: Command): void {
  model
    .command('check')
    .description(
      'Verify that a model directory matches the Phi-4-multimodal ONNX layout Earshot expects, and how its speech LoRA will be applied',
    )
    .argument('<dir>', 'model directory (the folder holding genai_config.json)')
    .option(
      '--json',
      'print {"ok","variant","speech_adapter","speech_adapter_rank","graph_lora_rank","lora_graph_inputs","resident_bytes_estimate","problems",...}',
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const report = await modelReport(dir);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else (report.ok ? process.stdout : process.stderr).write(`${formatModelReport(report).join('\n')}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}
