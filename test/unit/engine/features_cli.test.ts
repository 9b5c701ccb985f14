import { GOLDEN_PHI4MM_AUDIO_DIR } from '../../helpers/golden.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWav } from '../../../src/audio/wav.ts';
import { registerFeaturesCommand } from '../../../src/cli/commands/features.ts';
import { extractFeatures } from '../../../src/engine/phi4mm/features.ts';
import { resample } from '../../../src/audio/resample.ts';

const GOLDEN_DIR = GOLDEN_PHI4MM_AUDIO_DIR;
const workDir = mkdtempSync(join(tmpdir(), 'earshot-features-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function runCli(args: string[]): Promise<{ stdout: string; error?: CommanderError }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const program = new Command('earshot').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerFeaturesCommand(program, { stdout });
  let error: CommanderError | undefined;
  try {
    await program.parseAsync(['node', 'earshot', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    error = err;
  }
  return { stdout: Buffer.concat(chunks).toString('utf8'), error };
}

function readF32(path: string): Float32Array {
  const bytes = new Uint8Array(readFileSync(path));
  return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
}

describe('earshot features', () => {
  it.each([
    { name: 'hello_16k', rateHz: 16000 },
    { name: 'hello_8k', rateHz: 8000 },
  ])('writes $name features matching the golden file and prints JSON', async ({ name, rateHz }) => {
    const out = join(workDir, `${name}.f32le`);
    const { stdout, error } = await runCli(['features', join(GOLDEN_DIR, `${name}.wav`), '--out', out, '--json']);
    expect(error).toBeUndefined();
    const sidecar = JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as {
      shape: number[];
      audio_tokens: number;
    };
    expect(JSON.parse(stdout)).toEqual({
      frames: sidecar.shape[0],
      audio_tokens: sidecar.audio_tokens,
      sample_rate: rateHz,
    });
    const written = readF32(out);
    const golden = readF32(join(GOLDEN_DIR, `${name}.features.f32le.bin`));
    expect(written.length).toBe(golden.length);
    let maxDiff = 0;
    for (let i = 0; i < golden.length; i++) maxDiff = Math.max(maxDiff, Math.abs(written[i] - golden[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
  });

  it('mixes stereo to mono and resamples 44.1 kHz', async () => {
    const length = 44100;
    const left = Float32Array.from({ length }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 300 * i) / 44100));
    const right = Float32Array.from({ length }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 1100 * i) / 44100));
    const file = join(workDir, 'stereo_44k.wav');
    writeFileSync(file, writeWav({ sampleRateHz: 44100, channels: [left, right], encoding: 'float32' }));
    const out = join(workDir, 'stereo_44k.f32le');
    const { stdout, error } = await runCli(['features', file, '--out', out, '--json']);
    expect(error).toBeUndefined();
    const mono = left.map((l, i) => (l + right[i]) / 2);
    const expected = extractFeatures(mono, 44100);
    const resampledLength = resample(mono, 44100, 16000).length;
    expect(expected.frames).toBe(Math.floor((resampledLength - 400) / 160) + 1);
    expect(JSON.parse(stdout)).toEqual({
      frames: expected.frames,
      audio_tokens: expected.audioTokens,
      sample_rate: 16000,
    });
    const written = readF32(out);
    let maxDiff = 0;
    for (let i = 0; i < expected.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(written[i] - expected.data[i]));
    expect(written.length).toBe(expected.data.length);
    expect(maxDiff).toBeLessThan(1e-5); // mono mix order may differ in the last float32 bit
  });

  it('prints a human summary without --json', async () => {
    const { stdout, error } = await runCli(['features', join(GOLDEN_DIR, 'hello_16k.wav')]);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/^285 frames x 80 mel bins, 36 audio tokens, 16000 Hz path/);
  });

  it('fails with the error code for a missing file', async () => {
    const { error } = await runCli(['features', join(workDir, 'nope.wav'), '--json']);
    expect(error?.exitCode).toBe(1);
    expect(error?.code).toBe('E_FILE_NOT_FOUND');
  });
});
