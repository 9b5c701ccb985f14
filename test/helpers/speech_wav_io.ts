// File plumbing for the speech fixtures: decode anything sox reads to 16 kHz mono float, and write/read the
// cache's own WAV files (PCM16 mono 16 kHz, canonical 44-byte header). Kept independent of src/audio so the
// fixtures test the product code instead of sharing its bugs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const FIXTURE_SAMPLE_RATE_HZ = 16_000;
export const FIXTURE_CACHE_DIR = join(tmpdir(), 'earshot-fixtures');

/** Cache file name for a builder and its parameters: same params, same file (idempotent builders). */
export function fixturePath(builder: string, params: unknown, ext: string): string {
  const key = createHash('sha256')
    .update(`${builder}:v2:${JSON.stringify(params)}`)
    .digest('hex')
    .slice(0, 16);
  return join(FIXTURE_CACHE_DIR, `${builder}-${key}.${ext}`);
}

/** Writes through a temporary name then renames, so parallel test workers never see a half-written file. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

/** Decodes an audio file with sox to 16 kHz mono float in [-1, 1). `.raw` files are read as s16le 16 kHz mono. */
export function decodeWithSox(path: string): Float32Array {
  const inputType = path.endsWith('.raw')
    ? ['-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-L']
    : [];
  // -D: no dither. sox dithers by default after rate conversion, with random noise, which would make two
  // builds of the same fixture differ.
  const pcm = execFileSync(
    'sox',
    ['-D', ...inputType, path, '-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-c', '1', '-L', '-'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return pcm16ToFloat(pcm);
}

export function pcm16ToFloat(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

/** Rounds to PCM16 (clamped), the form every fixture is stored and returned in. */
export function quantizeToPcm16(samples: Float32Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = toInt16(samples[i]) / 32768;
  return out;
}

function toInt16(sample: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(sample * 32768)));
}

export function encodeWav16kMono(samples: Float32Array): Uint8Array {
  const dataBytes = samples.length * 2;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) =>
    [...text].forEach((ch, i) => view.setUint8(offset + i, ch.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, FIXTURE_SAMPLE_RATE_HZ, true);
  view.setUint32(28, FIXTURE_SAMPLE_RATE_HZ * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + 2 * i, toInt16(samples[i]), true);
  return bytes;
}

/** Reads a WAV this module wrote (canonical header); anything else is an error, not a guess. */
export function readCachedWav(path: string): Float32Array {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) => bytes.subarray(offset, offset + 4).toString('latin1');
  if (
    tag(0) !== 'RIFF' ||
    tag(8) !== 'WAVE' ||
    tag(36) !== 'data' ||
    view.getUint16(22, true) !== 1 ||
    view.getUint32(24, true) !== FIXTURE_SAMPLE_RATE_HZ
  ) {
    throw new Error(`${path} is not a fixture WAV (PCM16 mono 16 kHz, 44-byte header)`);
  }
  return pcm16ToFloat(bytes.subarray(44, 44 + view.getUint32(40, true)));
}
