// Phi-4-multimodal's audio front end (docs/model.md, "Audio features"): per-frame pre-emphasis, Hamming window, power
// spectrum, the fixed 80-filter Kaldi-mel bank and ln(max(., 1)). Matches the golden numpy reference in
// test/fixtures/phi4mm-audio to well under 1e-3 (see test/unit/engine/features.test.ts).
import { resample } from '../../audio/resample.ts';
import { EarshotError } from '../../errors.ts';
import { RealFft } from './fft.ts';
import { MEL_FILTER_COUNT, MEL_SPECTRUM_BINS, applyLogMel, melFilterbank, type MelFilterbank } from './mel.ts';

export const FEATURE_MEL_BINS = MEL_FILTER_COUNT;
/** 4000 frames = 40 s = 500 audio tokens, the speech encoder's positional range (docs/model.md, "Audio features"). */
export const MAX_FEATURE_FRAMES_PER_CHUNK = 4000;
/** One audio token per 8 feature frames (80 ms). */
export const FRAMES_PER_AUDIO_TOKEN = 8;

export type FeatureSampleRateHz = 8000 | 16000;

export interface AudioFeatures {
  frames: number;
  /** `[frames][80]` row-major float32. */
  data: Float32Array;
  audioTokens: number;
  /** The rate the features were computed at: 8000 only for the telephony path. */
  sampleRateHz: FeatureSampleRateHz;
}

interface FramingParams {
  fftSize: number;
  windowSamples: number;
  hopSamples: number;
}

// Both paths frame at 10 ms; the 8 kHz path halves everything and zero-fills the 4-8 kHz bins (4.4).
const FRAMING: Record<FeatureSampleRateHz, FramingParams> = {
  16000: { fftSize: 512, windowSamples: 400, hopSamples: 160 },
  8000: { fftSize: 256, windowSamples: 200, hopSamples: 80 },
};

// The reference computes pre-emphasis in float32 (numpy casts the scalar 0.97 to the array's float32), so we
// round the same way; the rest runs in float64 like its rfft.
const PREEMPHASIS_F32 = Math.fround(0.97);
// Samples are in [-1, 1); the reference's extractor works on the int16 scale.
const PCM_SCALE = 32768;

export function audioTokenCount(frames: number): number {
  return Math.ceil(frames / FRAMES_PER_AUDIO_TOKEN);
}

/** Frames without centre padding; a tail that does not fill a hop is dropped. */
export function featureFrameCount(sampleCount: number, sampleRateHz: FeatureSampleRateHz): number {
  const { windowSamples, hopSamples } = FRAMING[sampleRateHz];
  if (sampleCount < windowSamples) return 0;
  return Math.floor((sampleCount - windowSamples) / hopSamples) + 1;
}

/** Symmetric Hamming window, as numpy.hamming: 0.54 - 0.46 cos(2 pi n / (N - 1)). */
function hammingWindow(length: number): Float64Array {
  const window = new Float64Array(length);
  for (let n = 0; n < length; n++) window[n] = 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (length - 1));
  return window;
}

/**
 * Computes log-mel features at one input rate. Holds its window, FFT tables and per-frame scratch, so one
 * instance serves any number of `extract` calls with no allocation except the output array. Not re-entrant,
 * which is fine because `extract` is synchronous.
 */
export class LogMelExtractor {
  readonly sampleRateHz: FeatureSampleRateHz;
  private readonly framing: FramingParams;
  private readonly window: Float64Array;
  private readonly fft: RealFft;
  private readonly filterbank: MelFilterbank;
  private readonly frame: Float64Array; // windowed, pre-emphasised frame
  private readonly power: Float64Array; // 257 bins; on the 8 kHz path bins 128..256 stay zero forever

  constructor(sampleRateHz: FeatureSampleRateHz) {
    if (sampleRateHz !== 16000 && sampleRateHz !== 8000) {
      throw new EarshotError('E_UNSUPPORTED_FORMAT', `LogMelExtractor runs at 16000 or 8000 Hz, not ${sampleRateHz}`);
    }
    this.sampleRateHz = sampleRateHz;
    this.framing = FRAMING[sampleRateHz];
    this.window = hammingWindow(this.framing.windowSamples);
    this.fft = new RealFft(this.framing.fftSize);
    this.filterbank = melFilterbank();
    this.frame = new Float64Array(this.framing.windowSamples);
    this.power = new Float64Array(MEL_SPECTRUM_BINS);
  }

  /** `samples`: mono PCM in [-1, 1) at this extractor's rate. */
  extract(samples: Float32Array): AudioFeatures {
    const { windowSamples, hopSamples } = this.framing;
    const { window, frame, power, fft, filterbank } = this;
    const frames = featureFrameCount(samples.length, this.sampleRateHz);
    const data = new Float32Array(frames * MEL_FILTER_COUNT);
    // On the 8 kHz path the 256-point FFT fills bins 0..128; the reference drops its Nyquist bin (128) and
    // leaves 129..256 zero so the 16 kHz mel matrix sees an empty 4-8 kHz band.
    const keptBins = this.sampleRateHz === 8000 ? fft.bins - 1 : MEL_SPECTRUM_BINS;
    for (let f = 0; f < frames; f++) {
      const start = f * hopSamples;
      // Pre-emphasis inside the frame: the first sample is its own predecessor.
      let previous = samples[start];
      for (let n = 0; n < windowSamples; n++) {
        const current = samples[start + n];
        const emphasised = Math.fround(current - Math.fround(PREEMPHASIS_F32 * previous));
        frame[n] = emphasised * PCM_SCALE * window[n];
        previous = current;
      }
      fft.powerSpectrum(frame, windowSamples, power);
      if (keptBins < fft.bins) power[keptBins] = 0;
      applyLogMel(filterbank, power, data, f * MEL_FILTER_COUNT);
    }
    return { frames, data, audioTokens: audioTokenCount(frames), sampleRateHz: this.sampleRateHz };
  }
}

// Extractors are built lazily on first use so importing this module does no work.
const sharedExtractors: Partial<Record<FeatureSampleRateHz, LogMelExtractor>> = {};

function sharedExtractor(sampleRateHz: FeatureSampleRateHz): LogMelExtractor {
  return (sharedExtractors[sampleRateHz] ??= new LogMelExtractor(sampleRateHz));
}

/**
 * 16 kHz input takes the 16 kHz path; true 8 kHz input (telephony) takes the 8 kHz path and is never
 * upsampled; any other rate is resampled to 16 kHz first.
 */
export function extractFeatures(samples: Float32Array, sampleRateHz: number): AudioFeatures {
  if (!Number.isFinite(sampleRateHz) || sampleRateHz <= 0) {
    throw new EarshotError('E_UNSUPPORTED_FORMAT', `Invalid sample rate ${sampleRateHz} Hz`, { param: 'sampleRateHz' });
  }
  if (sampleRateHz === 16000 || sampleRateHz === 8000) return sharedExtractor(sampleRateHz).extract(samples);
  return sharedExtractor(16000).extract(resample(samples, sampleRateHz, 16000));
}

/**
 * Splits features into pieces of at most `maxFrames` frames for the speech encoder (4000 = 40 s = its
 * positional range). Every piece but the last is a multiple of 8 frames, so the pieces' token counts add up to
 * the whole. Pieces are copies (safe to hand to onnxruntime as tensor data). No frames -> no pieces.
 */
export function chunkFeatures(features: AudioFeatures, maxFrames = MAX_FEATURE_FRAMES_PER_CHUNK): AudioFeatures[] {
  if (!Number.isInteger(maxFrames) || maxFrames <= 0 || maxFrames % FRAMES_PER_AUDIO_TOKEN !== 0) {
    throw new EarshotError('E_INTERNAL', `chunkFeatures: maxFrames must be a positive multiple of 8, got ${maxFrames}`);
  }
  const chunks: AudioFeatures[] = [];
  for (let first = 0; first < features.frames; first += maxFrames) {
    const frames = Math.min(maxFrames, features.frames - first);
    const data = features.data.slice(first * MEL_FILTER_COUNT, (first + frames) * MEL_FILTER_COUNT);
    chunks.push({ frames, data, audioTokens: audioTokenCount(frames), sampleRateHz: features.sampleRateHz });
  }
  return chunks;
}
