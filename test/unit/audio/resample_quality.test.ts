// Frequency response of the resampler: passband level, anti-aliasing, interpolation images.
import { describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { resample, StreamingResampler, SUPPORTED_INPUT_RATES_HZ } from '../../../src/audio/resample.ts';

const OUTPUT_RATE_HZ = 16_000;
const AMPLITUDE = 0.5;

function sine(frequencyHz: number, rateHz: number, samples: number): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = AMPLITUDE * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz);
  return out;
}

/** RMS of the middle half: away from the zero-padded ends, where the filter is in steady state. */
function middleRms(samples: Float32Array): number {
  const start = Math.floor(samples.length / 4);
  const end = start + Math.floor(samples.length / 2);
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / (end - start));
}

function levelDb(samples: Float32Array): number {
  return 20 * Math.log10(middleRms(samples) / (AMPLITUDE / Math.SQRT2));
}

/** One second of a tone at the input rate, resampled to 16 kHz. */
function resampledTone(frequencyHz: number, inputRateHz: number): Float32Array {
  return resample(sine(frequencyHz, inputRateHz, inputRateHz), inputRateHz);
}

describe('resampler passband', () => {
  it.each(SUPPORTED_INPUT_RATES_HZ)('keeps a 1 kHz tone from %i Hz within 0.1 dB', (rateHz) => {
    const output = resampledTone(1000, rateHz);
    expect(output.length).toBe(OUTPUT_RATE_HZ);
    expect(Math.abs(levelDb(output))).toBeLessThan(0.1);
  });

  it.each(SUPPORTED_INPUT_RATES_HZ)(
    'reproduces 1 kHz and 3 kHz tones from %i Hz sample by sample (phase aligned)',
    (rateHz) => {
      for (const frequencyHz of [1000, 3000]) {
        const output = resampledTone(frequencyHz, rateHz);
        const ideal = sine(frequencyHz, OUTPUT_RATE_HZ, OUTPUT_RATE_HZ);
        let worst = 0;
        for (let k = 1000; k < 15000; k++) worst = Math.max(worst, Math.abs(output[k] - ideal[k]));
        // -60 dB of the amplitude: a delay of even 1/100 of an output sample would exceed this at 3 kHz.
        expect(worst).toBeLessThan(AMPLITUDE * 1e-3);
      }
    },
  );

  it('passes DC with unity gain in every polyphase phase', () => {
    for (const rateHz of SUPPORTED_INPUT_RATES_HZ) {
      const output = resample(new Float32Array(rateHz).fill(0.25), rateHz);
      for (let k = 1000; k < 15000; k++) expect(Math.abs(output[k] - 0.25)).toBeLessThan(1e-6);
    }
  });

  it('copies 16 kHz input exactly', () => {
    const input = sine(1234, 16000, 999);
    const output = resample(input, 16000);
    expect(output).toEqual(input);
    expect(output).not.toBe(input);
  });
});

describe('resampler anti-aliasing (tones above 8 kHz would alias into the band)', () => {
  const cases: Array<[number, number]> = [
    [48000, 9000],
    [48000, 8500],
    [48000, 12000],
    [44100, 8500],
    [44100, 9000],
    [44100, 15000],
    [32000, 8500],
    [32000, 9000],
    [32000, 15000],
    [24000, 8500],
    [24000, 9000],
    [24000, 11000],
    [22050, 8500],
    [22050, 10000],
  ];
  it.each(cases)('%i Hz input: a %i Hz tone comes out at least 50 dB below the 1 kHz level', (rateHz, frequencyHz) => {
    const reference = levelDb(resampledTone(1000, rateHz));
    const alias = levelDb(resampledTone(frequencyHz, rateHz));
    expect(reference - alias).toBeGreaterThan(50);
  });

  it('8 kHz -> 16 kHz interpolation leaves images of a 3 kHz tone (at 5 kHz) more than 50 dB down', () => {
    const output = resampledTone(3000, 8000);
    const ideal = sine(3000, OUTPUT_RATE_HZ, OUTPUT_RATE_HZ);
    const residual = output.map((value, k) => value - ideal[k]);
    expect(levelDb(residual)).toBeLessThan(-50);
  });
});

describe('resampler rates', () => {
  it('rejects unsupported rates with E_UNSUPPORTED_FORMAT', () => {
    for (const [input, output] of [
      [11025, 16000],
      [16000, 12345],
      [0, 16000],
    ]) {
      let caught: unknown;
      try {
        new StreamingResampler(input, output);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EarshotError);
      expect((caught as EarshotError).code).toBe('E_UNSUPPORTED_FORMAT');
      expect((caught as EarshotError).message).toContain(String(input === 0 || input === 11025 ? input : output));
    }
  });

  it('also converts 16 kHz to 8 kHz and 24 kHz', () => {
    expect(Math.abs(levelDb(resample(sine(1000, 16000, 16000), 16000, 8000)))).toBeLessThan(0.1);
    expect(Math.abs(levelDb(resample(sine(1000, 16000, 16000), 16000, 24000)))).toBeLessThan(0.1);
    expect(resample(new Float32Array(16000), 16000, 24000).length).toBe(24000);
  });
});
