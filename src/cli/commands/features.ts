import { endianness } from 'node:os';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { mixToMono, readWavFile } from '../../audio/wav.ts';
import { isEarshotError } from '../../errors.ts';
import { extractFeatures, type AudioFeatures } from '../../engine/phi4mm/features.ts';

// `earshot features FILE --out OUT.f32le [--json]`: the Phi-4-mm log-mel features of a WAV file, in the same
// layout as test/fixtures/phi4mm-audio (float32 little-endian [frames][80]), for checking against other
// implementations.

/** Seams for tests; production passes nothing. */
export interface FeaturesCommandDeps {
  stdout?: NodeJS.WritableStream;
}

interface FeaturesFlags {
  out?: string;
  json?: boolean;
}

/** `[frames][80]` float32 little-endian, whatever the host byte order. */
export function featuresToF32leBytes(features: AudioFeatures): Uint8Array {
  const { data } = features;
  if (endianness() === 'LE') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return bytes;
}

export function registerFeaturesCommand(program: Command, deps: FeaturesCommandDeps = {}): void {
  program
    .command('features')
    .description(
      'Compute Phi-4-multimodal log-mel features of a WAV file (channels averaged; 8 kHz files take ' +
        'the 8 kHz telephony path, other rates are resampled to 16 kHz)',
    )
    .argument('<file>', 'input WAV (PCM16 or float32)')
    .option('--out <file>', 'write the features as float32 little-endian [frames][80]')
    .option('--json', 'print {"frames","audio_tokens","sample_rate"} as JSON')
    .action(async function (this: Command, file: string, flags: FeaturesFlags) {
      const stdout = deps.stdout ?? process.stdout;
      try {
        const wav = await readWavFile(file);
        const features = extractFeatures(mixToMono(wav.channels), wav.sampleRateHz);
        if (flags.out !== undefined) await writeFile(flags.out, featuresToF32leBytes(features));
        if (flags.json) {
          const summary = {
            frames: features.frames,
            audio_tokens: features.audioTokens,
            sample_rate: features.sampleRateHz,
          };
          stdout.write(`${JSON.stringify(summary)}\n`);
        } else {
          const where = flags.out === undefined ? '' : ` -> ${flags.out}`;
          stdout.write(
            `${features.frames} frames x 80 mel bins, ${features.audioTokens} audio tokens, ` +
              `${features.sampleRateHz} Hz path (input ${wav.sampleRateHz} Hz)${where}\n`,
          );
        }
      } catch (err) {
        if (!isEarshotError(err)) throw err;
        // Through commander so the exit code flows back to main() (exitOverride) or to the shell.
        this.error(`error ${err.code}: ${err.message}`, { exitCode: 1, code: err.code });
      }
    });
}
