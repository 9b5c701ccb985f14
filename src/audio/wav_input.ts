import { resample } from './resample.ts';
import { mixToMono, readWavFile } from './wav.ts';

/**
 * A WAV file as the pipeline hears it: channels averaged, resampled to 16 kHz with the streaming
 * resampler's arithmetic (so offline results equal a live stream of the same file). True 8 kHz audio is
 * also returned as is, for the model's telephony feature path.
 */
export async function readWavFileAs16k(path: string): Promise<{ samples16k: Float32Array; samples8k?: Float32Array }> {
  const wav = await readWavFile(path);
  const mono = mixToMono(wav.channels);
  const samples16k = wav.sampleRateHz === 16_000 ? mono : resample(mono, wav.sampleRateHz, 16_000);
  return wav.sampleRateHz === 8000 ? { samples16k, samples8k: mono } : { samples16k };
}
