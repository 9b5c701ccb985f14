// The real recordings of the VAD accuracy set (Debian's pocketsphinx-testdata: LibriVox excerpts, an4
// "cards" utterances, three read phrases and a TIDIGITS digit string, all 16 kHz), and where speech lies in
// each clean clip. The truth rule uses energy in the CLEAN recording only, never Silero or the refiner, so
// the VAD is measured against something independent of it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../../audio/wav.ts';
import { EarshotError } from '../../errors.ts';

export const POCKETSPHINX_DATA_DIR = '/usr/share/pocketsphinx/test/data';
const RATE_HZ = 16_000;

export const ACCURACY_CLIPS: readonly string[] = [
  'librivox/sense_and_sensibility_01_austen_64kb-0870.wav',
  'librivox/sense_and_sensibility_01_austen_64kb-0880.wav',
  'librivox/sense_and_sensibility_01_austen_64kb-0890.wav',
  'librivox/sense_and_sensibility_01_austen_64kb-0920.wav',
  'librivox/sense_and_sensibility_01_austen_64kb-0930.wav',
  'cards/001.wav',
  'cards/002.wav',
  'cards/003.wav',
  'cards/004.wav',
  'cards/005.wav',
  'goforward.raw',
  'numbers.raw',
  'something.raw',
  'tidigits/dhd.2934z.raw',
];

export interface CleanClip {
  name: string;
  /** 16 kHz samples in [-1, 1). */
  samples: Float32Array;
  /** Speech extent in the clean clip, [onsetSample, offsetSample). */
  onsetSample: number;
  offsetSample: number;
}

function pcm16le(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

export function loadCleanClip(name: string, dataDir = POCKETSPHINX_DATA_DIR): CleanClip {
  const path = join(dataDir, name);
  if (!existsSync(path)) {
    throw new EarshotError(
      'E_FILE_NOT_FOUND',
      `${path} is missing: install Debian's pocketsphinx-testdata (apt-get install pocketsphinx-testdata).`,
    );
  }
  const bytes = readFileSync(path);
  let samples: Float32Array;
  if (name.endsWith('.raw')) {
    samples = pcm16le(bytes); // the .raw files are headerless s16le 16 kHz mono
  } else {
    const wav = readWav(bytes);
    if (wav.sampleRateHz !== RATE_HZ || wav.channels.length !== 1)
      throw new EarshotError('E_WAV_UNSUPPORTED', `${path}: expected 16 kHz mono.`);
    samples = wav.channels[0];
  }
  return { name, samples, ...speechExtent(samples) };
}

// The truth rule, in 10 ms frames: threshold = max(loudest frame - 35 dB, 5th-percentile frame + 12 dB); a
// frame is speech at or above it; onset = start of the first run of >= 5 speech frames (50 ms), offset =
// end of the last such run. The floor term keeps the recordings' own room noise (30-45 dB under their
// peaks) out of the speech; the 50 ms run ignores clicks and breaths.
const FRAME = 160;
const BELOW_PEAK_DB = 35;
const ABOVE_FLOOR_DB = 12;
const FLOOR_PERCENTILE = 0.05;
const MIN_RUN_FRAMES = 5;

export function speechExtent(samples: Float32Array): { onsetSample: number; offsetSample: number } {
  const frames = Math.floor(samples.length / FRAME);
  const levels = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = f * FRAME; i < (f + 1) * FRAME; i++) sum += samples[i] * samples[i];
    levels[f] = 10 * Math.log10(sum / FRAME + 1e-20);
  }
  const sorted = Float64Array.from(levels).sort();
  const threshold = Math.max(
    sorted[frames - 1] - BELOW_PEAK_DB,
    sorted[Math.floor(FLOOR_PERCENTILE * (frames - 1))] + ABOVE_FLOOR_DB,
  );
  let first = -1;
  let last = -1;
  let runStart = -1;
  for (let f = 0; f <= frames; f++) {
    const speech = f < frames && levels[f] >= threshold;
    if (speech && runStart < 0) runStart = f;
    if (!speech && runStart >= 0) {
      if (f - runStart >= MIN_RUN_FRAMES) {
        if (first < 0) first = runStart;
        last = f;
      }
      runStart = -1;
    }
  }
  if (first < 0) throw new EarshotError('E_INTERNAL', 'speechExtent: no speech found in clip');
  return { onsetSample: first * FRAME, offsetSample: last * FRAME };
}
