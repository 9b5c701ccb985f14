import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FIXTURE_SEED, generateFixtureModel } from '../../engine/phi4mm/fixture/index.ts';
import type { FloatType, FixtureLayout, FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { generateKokoroFixture } from '../../tts/kokoro/fixture/generate.ts';

// `earshot model fixture`: writes a generated model in the export's exact layout (random weights,
// meaningless text) for tests and benchmarks without the real weights.

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new InvalidArgumentError('the seed must be an integer from 0 to 4294967295');
  return seed;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function registerModelFixtureCommand(model: Command): void {
  model
    .command('fixture')
    .description('Generate a random-weight model in the Phi-4-multimodal ONNX layout (for tests and benchmarks)')
    .requiredOption('--out <dir>', 'directory to write the model into')
    .addOption(
      new Option(
        '--preset <preset>',
        'tiny: unit-test size; bench: Phi-4-mini widths, 2 layers, int4 (~1.8 GB); full: Phi-4-mini at real size (~6.5 GB)',
      )
        .choices(['tiny', 'bench', 'full'])
        .default('tiny'),
    )
    .addOption(
      new Option('--dtype <type>', 'float type of graph inputs/outputs (float16 = GPU export)')
        .choices(['float32', 'float16'])
        .default('float32'),
    )
    .addOption(
      new Option(
        '--layout <layout>',
        "published: the export's LoRA layout (all projections, symbolic LoRA inputs, adapters, vision); single-hook: one q_proj hook",
      )
        .choices(['published', 'single-hook'])
        .default('published'),
    )
    .option('--seed <n>', 'random seed; the same seed writes byte-identical files', parseSeed, DEFAULT_FIXTURE_SEED)
    .option(
      '--kokoro',
      "write a Kokoro-82M voice folder instead (the hub layout, Kokoro's graph inputs/outputs, random voices)",
    )
    .action(
      (opts: {
        out: string;
        preset: FixturePreset;
        dtype: FloatType;
        seed: number;
        layout: FixtureLayout;
        kokoro?: boolean;
      }) => {
        const startedMs = Date.now();
        if (opts.kokoro === true) {
          const { files } = generateKokoroFixture({ outDir: opts.out, seed: opts.seed });
          process.stdout.write(
            `Wrote a Kokoro fixture (seed ${opts.seed}, ${files.length} files: ${files.join(', ')}) to ${opts.out}\n`,
          );
          return;
        }
        const result = generateFixtureModel({
          outDir: opts.out,
          preset: opts.preset,
          seed: opts.seed,
          floatType: opts.dtype,
          layout: opts.layout,
          onFile: (name, sizeBytes) => process.stdout.write(`  ${name.padEnd(34)} ${formatBytes(sizeBytes)}\n`),
          onProgress: (message) => process.stderr.write(`… ${message}\n`),
        });
        const elapsedMs = Date.now() - startedMs;
        process.stdout.write(
          `Wrote ${opts.preset} fixture (seed ${opts.seed}, ${opts.dtype}) in the ${opts.layout} layout to ${result.dir}: ${formatBytes(result.totalBytes)} in ${elapsedMs} ms\n`,
        );
      },
    );
}
