import { describe, expect, it } from 'vitest';
import { decodeMuLaw } from '../../../src/audio/g711.ts';
import {
  createSpeechEncoder,
  OUTPUT_BYTES_PER_SECOND,
  type SpeechOutputFormat,
} from '../../../src/tts/output_format.ts';

function tone24k(seconds: number, hz = 440): Int16Array {
  const out = new Int16Array(Math.round(seconds * 24_000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(10_000 * Math.sin((2 * Math.PI * hz * i) / 24_000));
  return out;
}

function encodeInChunks(format: SpeechOutputFormat, pcm: Int16Array, chunk: number): Uint8Array {
  const encoder = createSpeechEncoder(format);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += chunk) parts.push(encoder.push(pcm.subarray(i, i + chunk)));
  parts.push(encoder.flush());
  return Buffer.concat(parts);
}

describe('speech output formats', () => {
  it.each([
    ['audio/pcm', 48_000],
    ['audio/pcmu', 8000],
    ['audio/pcma', 8000],
  ] as const)('%s takes %i bytes per second of speech, whatever the chunking', (format, bytesPerSecond) => {
    expect(OUTPUT_BYTES_PER_SECOND[format]).toBe(bytesPerSecond);
    const pcm = tone24k(1);
    for (const chunk of [480, 1001, 24_000]) expect(encodeInChunks(format, pcm, chunk).length).toBe(bytesPerSecond);
  });

  it('G.711 encoding is identical in any chunking (no clicks at chunk edges)', () => {
    const pcm = tone24k(0.5);
    const whole = encodeInChunks('audio/pcmu', pcm, pcm.length);
    expect(Buffer.from(encodeInChunks('audio/pcmu', pcm, 333)).equals(Buffer.from(whole))).toBe(true);
    const decoded = decodeMuLaw(whole);
    let peak = 0;
    for (let i = 100; i < decoded.length - 100; i++) peak = Math.max(peak, Math.abs(decoded[i]));
    expect(peak).toBeGreaterThan(0.25); // 10000 / 32768 = 0.31, the tone survives
    expect(peak).toBeLessThan(0.35);
  });

  it('audio/pcm is little-endian s16', () => {
    const bytes = encodeInChunks('audio/pcm', Int16Array.of(1, -2), 2);
    expect([...bytes]).toEqual([1, 0, 0xfe, 0xff]);
  });
});
