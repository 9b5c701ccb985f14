import { resample } from './resample.ts';
import { mixToMono, readWav, readWavFile, type WavAudio } from './wav.ts';

export interface PipelineAudio {
  samples16k: Float32Array;
  /** The source's own 8 kHz samples (telephony: PCM or G.711 at 8 kHz), kept for the model's 8 kHz path. */
  samples8k?: Float32Array;
}

/**
 * A WAV file as the pipeline hears it: channels averaged, resampled to 16 kHz with the streaming
 * resampler's arithmetic (so offline results equal a live stream of the same file). True 8 kHz audio is
 * also returned as is, for the model's telephony feature path.
 */
export async function readWavFileAs16k(path: string): Promise<PipelineAudio> {
  return wavAs16k(await readWavFile(path));
}

/** WAV bytes (an upload) as the pipeline hears them; throws E_WAV_INVALID / E_WAV_UNSUPPORTED. */
export function decodeWavAs16k(bytes: Uint8Array): PipelineAudio {
  return wavAs16k(readWav(bytes));
}

/** Duration of decoded WAV audio in ms, before any resampling (for limits checked before the work). */
export function wavDurationMs(wav: WavAudio): number {
  return ((wav.channels[0]?.length ?? 0) * 1000) / wav.sampleRateHz;
}

/** As readWavFileAs16k, for a WAV already read (the VAD accuracy set builds G.711 files in memory). */
export function wavAs16k(wav: WavAudio): PipelineAudio {
  // Float WAVs may hold samples past ±1 (headroom). The live pipeline only ever hears PCM16-range audio,
  // so clip as a conversion to PCM16 would: offline results stay equal to a live stream of the file, and
  // the resampler's overshoot on absurd values (up to ±3.4e38, found by fuzzing) cannot reach Infinity.
  if (wav.encoding === 'float32' || wav.encoding === 'float64')
    for (const channel of wav.channels) clipToUnitRange(channel);
  const mono = mixToMono(wav.channels);
  const samples16k = wav.sampleRateHz === 16_000 ? mono : resample(mono, wav.sampleRateHz, 16_000);
  return wav.sampleRateHz === 8000 ? { samples16k, samples8k: mono } : { samples16k };
}

function clipToUnitRange(samples: Float32Array): void {
  for (let i = 0; i < samples.length; i++) {
    if (samples[i] > 1) samples[i] = 1;
    else if (samples[i] < -1) samples[i] = -1;
  }
}
