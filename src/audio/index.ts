// Pure audio DSP: PCM conversion, G.711, resampling, WAV files, fixed-size framing.
export { pcm16BytesToFloat32, int16ToFloat32, float32ToInt16, float32ToPcm16Bytes } from './pcm.ts';
export { decodeMuLaw, decodeALaw, encodeMuLaw, encodeALaw } from './g711.ts';
export { SUPPORTED_INPUT_RATES_HZ, StreamingResampler, resample, resampledLength } from './resample.ts';
export { readWav, writeWav, mixToMono, readWavFile, type WavAudio } from './wav.ts';
export { FrameAccumulator } from './framing.ts';
