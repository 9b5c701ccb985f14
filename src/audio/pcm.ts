// PCM16 <-> float conversions. Float audio is in [-1, 1) with full scale = 32768, the convention of
// OpenAI's pcm16 format, WAV and G.711 tables, so int16 -> float -> int16 is an exact round trip.
import { EarshotError } from '../errors.ts';

const INT16_FULL_SCALE = 32768;

/**
 * Little-endian signed 16-bit PCM bytes -> float samples (value / 32768). `destination(sampleCount)` may
 * supply a reusable array of exactly that length; by default the result is a fresh array.
 */
export function pcm16BytesToFloat32(
  bytes: Uint8Array,
  destination: (sampleCount: number) => Float32Array = (n) => new Float32Array(n),
): Float32Array {
  if (bytes.length % 2 !== 0) {
    throw new EarshotError('E_ODD_PCM_BYTES', `PCM16 audio must have an even number of bytes (got ${bytes.length}).`);
  }
  const sampleCount = bytes.length >> 1;
  const out = destination(sampleCount);
  for (let i = 0, b = 0; i < sampleCount; i++, b += 2) {
    // Shift the high byte into bit 31 and back down to sign-extend it.
    out[i] = (((bytes[b] | (bytes[b + 1] << 8)) << 16) >> 16) / INT16_FULL_SCALE;
  }
  return out;
}

export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / INT16_FULL_SCALE;
  return out;
}

/** Scales by 32768, rounds to nearest and clamps to [-32768, 32767] (NaN becomes 0). */
export function float32ToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = floatSampleToInt16(samples[i]);
  return out;
}

export function float32ToPcm16Bytes(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0, b = 0; i < samples.length; i++, b += 2) {
    const value = floatSampleToInt16(samples[i]);
    out[b] = value & 0xff;
    out[b + 1] = (value >> 8) & 0xff;
  }
  return out;
}

/** One float sample -> int16 value (shared with the G.711 encoders). */
export function floatSampleToInt16(sample: number): number {
  const scaled = Math.round(sample * INT16_FULL_SCALE);
  if (scaled > 32767) return 32767;
  if (scaled < -32768) return -32768;
  // biome-ignore lint/suspicious/noSelfCompare: the hot path's NaN check, without a call
  return scaled === scaled ? scaled : 0;
}
