import { describe, expect, it } from 'vitest';
import { resample } from '../../../src/audio/resample.ts';
import {
  MAX_FEATURE_FRAMES_PER_CHUNK,
  chunkFeatures,
  extractFeatures,
  type AudioFeatures,
} from '../../../src/engine/phi4mm/features.ts';

function speechLike(length: number, rateHz: number): Float32Array {
  // A few harmonics with a slow amplitude envelope: enough structure to make every mel band non-trivial.
  return Float32Array.from({ length }, (_, i) => {
    const t = i / rateHz;
    const envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 1.3 * t);
    return (
      envelope *
      (0.3 * Math.sin(2 * Math.PI * 220 * t) +
        0.1 * Math.sin(2 * Math.PI * 1870 * t) +
        0.05 * Math.sin(2 * Math.PI * 5230 * t))
    );
  });
}

describe('chunkFeatures', () => {
  it('splits 90 s into 4000 + 4000 + rest frames whose concatenation is the whole', () => {
    const features = extractFeatures(speechLike(90 * 16000, 16000), 16000);
    expect(features.frames).toBe(8998);
    expect(features.audioTokens).toBe(1125);
    const chunks = chunkFeatures(features);
    expect(chunks.map((c) => c.frames)).toEqual([4000, 4000, 998]);
    expect(chunks.map((c) => c.audioTokens)).toEqual([500, 500, 125]);
    expect(chunks.reduce((sum, c) => sum + c.audioTokens, 0)).toBe(features.audioTokens);
    const joined = new Float32Array(features.data.length);
    let offset = 0;
    for (const chunk of chunks) {
      expect(chunk.sampleRateHz).toBe(16000);
      expect(chunk.data.length).toBe(chunk.frames * 80);
      joined.set(chunk.data, offset);
      offset += chunk.data.length;
    }
    expect(offset).toBe(features.data.length);
    expect(Buffer.from(joined.buffer).equals(Buffer.from(features.data.buffer))).toBe(true);
  });

  it('returns chunks that do not alias the input', () => {
    const features: AudioFeatures = {
      frames: 16,
      data: new Float32Array(16 * 80).fill(1),
      audioTokens: 2,
      sampleRateHz: 8000,
    };
    const chunks = chunkFeatures(features, 8);
    expect(chunks.map((c) => [c.frames, c.audioTokens, c.sampleRateHz])).toEqual([
      [8, 1, 8000],
      [8, 1, 8000],
    ]);
    chunks[0].data[0] = 5;
    expect(features.data[0]).toBe(1);
  });

  it('keeps a short input in one chunk and gives no chunk for no frames', () => {
    const short: AudioFeatures = { frames: 3, data: new Float32Array(240), audioTokens: 1, sampleRateHz: 16000 };
    expect(chunkFeatures(short).map((c) => c.frames)).toEqual([3]);
    expect(chunkFeatures({ frames: 0, data: new Float32Array(0), audioTokens: 0, sampleRateHz: 16000 })).toEqual([]);
  });

  it('token counts add up for every length (chunks are multiples of 8 but the last)', () => {
    for (const frames of [1, 7, 8, 9, 3999, 4000, 4001, 8000, 12345]) {
      const features: AudioFeatures = {
        frames,
        data: new Float32Array(frames * 80),
        audioTokens: Math.ceil(frames / 8),
        sampleRateHz: 16000,
      };
      const chunks = chunkFeatures(features);
      expect(chunks.every((c) => c.frames <= MAX_FEATURE_FRAMES_PER_CHUNK)).toBe(true);
      expect(chunks.reduce((sum, c) => sum + c.audioTokens, 0)).toBe(features.audioTokens);
      expect(chunks.reduce((sum, c) => sum + c.frames, 0)).toBe(frames);
    }
  });

  it.each([0, -8, 12, 4001, 8.5])('rejects maxFrames %s', (maxFrames) => {
    const features: AudioFeatures = { frames: 1, data: new Float32Array(80), audioTokens: 1, sampleRateHz: 16000 };
    expect(() => chunkFeatures(features, maxFrames)).toThrow(/multiple of 8/);
  });
});

describe('resampled path', () => {
  it('44.1 kHz input is resampled to 16 kHz and framed on the resampled length', () => {
    const input = speechLike(44100 * 2 + 123, 44100);
    const resampled = resample(input, 44100, 16000);
    const features = extractFeatures(input, 44100);
    expect(features.sampleRateHz).toBe(16000);
    expect(features.frames).toBe(Math.floor((resampled.length - 400) / 160) + 1);
    expect(features.audioTokens).toBe(Math.ceil(features.frames / 8));
    // Same numbers as extracting the resampled signal directly.
    expect(Array.from(features.data)).toEqual(Array.from(extractFeatures(resampled, 16000).data));
  });

  it('a 16 kHz signal resampled from 48 kHz gives nearly the same features as the 16 kHz original', () => {
    const original = speechLike(16000, 16000);
    const at48k = speechLike(48000, 48000);
    const direct = extractFeatures(original, 16000);
    const viaResample = extractFeatures(at48k, 48000);
    expect(viaResample.frames).toBe(direct.frames);
    // Compare interior frames (resampler edges differ) on the loud low bands.
    let maxDiff = 0;
    for (let f = 5; f < direct.frames - 5; f++) {
      for (let m = 0; m < 40; m++)
        maxDiff = Math.max(maxDiff, Math.abs(direct.data[f * 80 + m] - viaResample.data[f * 80 + m]));
    }
    expect(maxDiff).toBeLessThan(0.1);
  });

  it('rejects a nonsense sample rate', () => {
    expect(() => extractFeatures(new Float32Array(1000), 0)).toThrow();
    expect(() => extractFeatures(new Float32Array(1000), Number.NaN)).toThrow();
  });
});
