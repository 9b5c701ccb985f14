import { GOLDEN_PHI4MM_AUDIO_DIR } from '../../helpers/golden.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav } from '../../../src/audio/wav.ts';
import { benchFeatures } from '../../../src/bench/features_bench.ts';
import {
  LogMelExtractor,
  audioTokenCount,
  extractFeatures,
  featureFrameCount,
} from '../../../src/engine/phi4mm/features.ts';
import { MEL_SPECTRUM_BINS, melFilterMatrix, melFilterbank } from '../../../src/engine/phi4mm/mel.ts';

const GOLDEN_DIR = GOLDEN_PHI4MM_AUDIO_DIR;
const TOLERANCE = 1e-3;

interface GoldenSidecar {
  input_sample_rate: number;
  input_num_samples: number;
  shape: [number, number];
  audio_tokens: number;
}

function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  const copy = new Uint8Array(bytes); // aligned copy
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

function readGoldenWav(path: string): { sampleRateHz: number; samples: Float32Array } {
  const wav = readWav(new Uint8Array(readFileSync(path)));
  expect(wav.encoding).toBe('pcm16'); // int16 / 32768, as the reference's soundfile read
  expect(wav.channels.length).toBe(1);
  return { sampleRateHz: wav.sampleRateHz, samples: wav.channels[0] };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('mel filterbank', () => {
  it('equals the golden [80][257] matrix exactly', () => {
    const golden = readFloat32(join(GOLDEN_DIR, 'mel_filters_16k_80x257.f32le.bin'));
    const ours = melFilterMatrix();
    expect(ours.length).toBe(80 * 257);
    expect(maxAbsDiff(ours, golden)).toBe(0);
  });

  it('stores only the non-zero spans, inside bins 1..245', () => {
    const bank = melFilterbank();
    const dense = melFilterMatrix();
    let nonZero = 0;
    for (const w of dense) if (w !== 0) nonZero++;
    expect(bank.weights.length).toBe(nonZero);
    for (let m = 0; m < bank.filterCount; m++) {
      const length = bank.offsets[m + 1] - bank.offsets[m];
      expect(length).toBeGreaterThan(0);
      expect(bank.startBins[m]).toBeGreaterThanOrEqual(1);
      expect(bank.startBins[m] + length - 1).toBeLessThanOrEqual(245);
      for (let i = 0; i < length; i++) {
        expect(bank.weights[bank.offsets[m] + i]).toBe(dense[m * MEL_SPECTRUM_BINS + bank.startBins[m] + i]);
      }
    }
  });
});

describe.each([
  { name: 'hello_16k', rateHz: 16000 },
  { name: 'speech_7p3s_16k', rateHz: 16000 },
  { name: 'hello_8k', rateHz: 8000 },
])('golden features $name', ({ name, rateHz }) => {
  const sidecar = JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as GoldenSidecar;
  const golden = readFloat32(join(GOLDEN_DIR, `${name}.features.f32le.bin`));
  const { sampleRateHz, samples } = readGoldenWav(join(GOLDEN_DIR, `${name}.wav`));

  it('reads the clip the sidecar describes', () => {
    expect(sampleRateHz).toBe(rateHz);
    expect(sampleRateHz).toBe(sidecar.input_sample_rate);
    expect(samples.length).toBe(sidecar.input_num_samples);
    expect(golden.length).toBe(sidecar.shape[0] * sidecar.shape[1]);
  });

  it(`matches every value to ${TOLERANCE}, with equal frame and token counts`, () => {
    const features = extractFeatures(samples, sampleRateHz);
    expect(features.sampleRateHz).toBe(rateHz); // the 8 kHz clip takes the 8 kHz path, not an upsampled one
    expect(features.frames).toBe(sidecar.shape[0]);
    expect(features.data.length).toBe(golden.length);
    expect(features.audioTokens).toBe(sidecar.audio_tokens);
    expect(maxAbsDiff(features.data, golden)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('gives identical output when one extractor runs twice (scratch reuse)', () => {
    const extractor = new LogMelExtractor(rateHz as 8000 | 16000);
    const first = extractor.extract(samples);
    // Something different in between, so stale scratch state would show.
    extractor.extract(samples.map((s, i) => (i % 7 === 0 ? -s : s * 0.5)));
    const second = extractor.extract(samples);
    expect(second.data).not.toBe(first.data);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
    expect(maxAbsDiff(second.data, golden)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('frame and token counts', () => {
  it('audioTokenCount is ceil(frames / 8)', () => {
    expect(audioTokenCount(0)).toBe(0);
    expect(audioTokenCount(1)).toBe(1);
    expect(audioTokenCount(8)).toBe(1);
    expect(audioTokenCount(9)).toBe(2);
    expect(audioTokenCount(3998)).toBe(500); // 40 s
    expect(audioTokenCount(4000)).toBe(500);
    expect(audioTokenCount(1332)).toBe(167); // validation_vs_onnxruntime_extensions.json
    expect(audioTokenCount(2938)).toBe(368);
  });

  it('frames = floor((N - window) / hop) + 1 on both paths', () => {
    expect(featureFrameCount(640000, 16000)).toBe(3998);
    expect(featureFrameCount(400, 16000)).toBe(1);
    expect(featureFrameCount(559, 16000)).toBe(1);
    expect(featureFrameCount(560, 16000)).toBe(2);
    expect(featureFrameCount(200, 8000)).toBe(1);
    expect(featureFrameCount(280, 8000)).toBe(2);
    expect(featureFrameCount(199, 8000)).toBe(0);
  });

  it.each([0, 1, 399])('input of %i samples at 16 kHz gives 0 frames and 0 tokens', (length) => {
    const features = extractFeatures(new Float32Array(length).fill(0.25), 16000);
    expect(features).toMatchObject({ frames: 0, audioTokens: 0, sampleRateHz: 16000 });
    expect(features.data.length).toBe(0);
  });

  it('input shorter than one 8 kHz window gives 0 frames', () => {
    expect(extractFeatures(new Float32Array(199), 8000)).toMatchObject({
      frames: 0,
      audioTokens: 0,
      sampleRateHz: 8000,
    });
  });

  it('exactly one window gives one frame', () => {
    const samples = Float32Array.from({ length: 400 }, (_, i) => 0.3 * Math.sin(i / 5));
    const features = extractFeatures(samples, 16000);
    expect(features.frames).toBe(1);
    expect(features.audioTokens).toBe(1);
    expect(features.data.length).toBe(80);
  });
});

describe('8 kHz path', () => {
  it('leaves the 4-8 kHz mel bands at the ln(1) floor and is not the resampled 16 kHz result', () => {
    // 1 kHz tone at 8 kHz: energy in the low bands, nothing above 4 kHz.
    const samples = Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    const features = extractFeatures(samples, 8000);
    expect(features.sampleRateHz).toBe(8000);
    expect(features.frames).toBe(Math.floor((8000 - 200) / 80) + 1);
    const bank = melFilterbank();
    for (let f = 0; f < features.frames; f++) {
      for (let m = 0; m < 80; m++) {
        const value = features.data[f * 80 + m];
        // Filters that only see bins >= 128 (4 kHz) get zero power, hence exactly ln(1) = 0.
        if (bank.startBins[m] >= 128) expect(value).toBe(0);
      }
    }
    const peak = Math.max(...features.data.subarray(0, 80));
    expect(peak).toBeGreaterThan(15);
  });

  it('rejects other rates in the LogMelExtractor constructor', () => {
    expect(() => new LogMelExtractor(44100 as 16000)).toThrow(/16000 or 8000/);
  });
});

describe('benchFeatures', () => {
  it('reports the documented fields (smoke test; speed is not asserted)', () => {
    const result = benchFeatures({ runs: 2, warmupRuns: 0, audioSeconds: 1 });
    expect(Object.keys(result).sort()).toEqual(['audio_seconds', 'ms_min', 'ms_p50', 'x_realtime']);
    expect(result.audio_seconds).toBe(1);
    expect(result.ms_min).toBeLessThanOrEqual(result.ms_p50);
    expect(result.x_realtime).toBeGreaterThan(0);
  });
});
