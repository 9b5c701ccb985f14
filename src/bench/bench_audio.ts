import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWavFileAs16k } from '../audio/wav_input.ts';
import { EarshotError } from '../errors.ts';

/** Real human speech shipped by Debian's pocketsphinx-testdata (LibriVox excerpts, 16 kHz). */
export const POCKETSPHINX_LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';
const GAP_MS = 1500;

/**
 * Speech for benchmarks at 16 kHz: the given WAV, or the LibriVox excerpts of pocketsphinx-testdata joined
 * by 1.5 s gaps (so turns end). Benchmarks measure with real speech, never synthetic signals.
 */
export async function loadBenchSpeech16k(file?: string): Promise<Float32Array> {
  const files = file
    ? [file]
    : existsSync(POCKETSPHINX_LIBRIVOX_DIR)
      ? readdirSync(POCKETSPHINX_LIBRIVOX_DIR)
          .filter((f) => f.endsWith('.wav'))
          .sort()
          .map((f) => join(POCKETSPHINX_LIBRIVOX_DIR, f))
      : [];
  if (files.length === 0) {
    throw new EarshotError(
      'E_FILE_NOT_FOUND',
      `No speech to benchmark with: pass --audio FILE.wav, or install Debian's pocketsphinx-testdata (${POCKETSPHINX_LIBRIVOX_DIR}).`,
    );
  }
  const gap = new Float32Array((GAP_MS * 16000) / 1000);
  const parts: Float32Array[] = [];
  for (const f of files) {
    parts.push((await readWavFileAs16k(f)).samples16k, gap);
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
