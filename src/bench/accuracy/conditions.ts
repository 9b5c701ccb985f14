// The VAD accuracy set: real recordings placed with known gaps over seeded white, pink or brown noise at a
// given SNR, either as 16 kHz PCM16 or as a phone line would carry them (band-limited to 300-3400 Hz,
// resampled to 8 kHz, G.711-encoded in a WAV file and read back by the product's WAV reader). Deterministic:
// same condition, same samples. Truth = each clean clip's speech extent plus where it was placed.
import { resample } from '../../audio/resample.ts';
import { readWav, writeWav } from '../../audio/wav.ts';
import { wavAs16k, type PipelineAudio } from '../../audio/wav_input.ts';
import { bandPass } from './band_pass.ts';
import { NOISE_COLOURS, colouredNoise, type NoiseColour } from './noise.ts';
import { ACCURACY_CLIPS, loadCleanClip, type CleanClip } from './recordings.ts';

export type Channel = 'pcm16k' | 'mulaw8k' | 'alaw8k';
export const CHANNELS: readonly Channel[] = ['pcm16k', 'mulaw8k', 'alaw8k'];
export const SNRS_DB: readonly number[] = [10, 15, 20, 30];

export interface Condition {
  noise: NoiseColour;
  snrDb: number;
  channel: Channel;
}

export interface TruthSegment {
  onsetMs: number;
  offsetMs: number;
}

export interface ConditionAudio extends PipelineAudio {
  condition: Condition;
  truth: TruthSegment[];
}

const RATE_HZ = 16_000;
/** Active speech level every clip is scaled to (ITU-T P.56's nominal level), in dBFS RMS over its speech. */
export const SPEECH_LEVEL_DBFS = -26;
/**
 * Each clip's own recording kept either side of its speech, in ms (with a 10 ms fade). Short on purpose:
 * the recordings' own room noise sits 30-45 dB under their peaks, louder than the added noise at 30 dB SNR
 * in the speech band, so a long context would splice a step of foreign room tone around every clip that
 * no real recording has (measured: refined boundaries then ran 120 ms into it, the full context).
 */
const CLIP_CONTEXT_MS = 20;
const FADE_SAMPLES = 160;
const LEAD_IN_MS = 2000;
const TAIL_MS = 1500;
/** Gaps between one clip's speech offset and the next one's onset, in ms, used in turn. */
const GAPS_MS = [1000, 1500, 2000, 1250, 1750];
export const TELEPHONE_BAND_HZ: readonly [number, number] = [300, 3400];

export function allConditions(): Condition[] {
  const out: Condition[] = [];
  for (const channel of CHANNELS)
    for (const noise of NOISE_COLOURS) for (const snrDb of SNRS_DB) out.push({ noise, snrDb, channel });
  return out;
}

export function conditionName(c: Condition): string {
  return `${c.noise} ${c.snrDb} dB ${c.channel}`;
}

const clipMemo = new Map<string, CleanClip>();
function clip(name: string): CleanClip {
  let memo = clipMemo.get(name);
  if (!memo) {
    memo = loadCleanClip(name);
    clipMemo.set(name, memo);
  }
  return memo;
}

const msToSamples = (ms: number) => Math.round((ms * RATE_HZ) / 1000);

function activeGain(c: CleanClip): number {
  let power = 0;
  for (let i = c.onsetSample; i < c.offsetSample; i++) power += c.samples[i] * c.samples[i];
  const rms = Math.sqrt(power / (c.offsetSample - c.onsetSample));
  return 10 ** (SPEECH_LEVEL_DBFS / 20) / rms;
}

/** The clean speech track (clips placed and levelled) and its truth; shared by all noises and channels. */
function speechTrack(clips: readonly string[]): { track: Float64Array; truth: TruthSegment[] } {
  const context = msToSamples(CLIP_CONTEXT_MS);
  let cursor = msToSamples(LEAD_IN_MS);
  const placements = clips.map((name, i) => {
    const c = clip(name);
    const at = cursor;
    cursor =
      at +
      (c.offsetSample - c.onsetSample) +
      msToSamples(i === clips.length - 1 ? TAIL_MS : GAPS_MS[i % GAPS_MS.length]);
    return { c, at };
  });
  const track = new Float64Array(cursor);
  const truth: TruthSegment[] = [];
  for (const { c, at } of placements) {
    const gain = activeGain(c);
    const from = Math.max(0, c.onsetSample - context);
    const to = Math.min(c.samples.length, c.offsetSample + context);
    const shift = at - c.onsetSample;
    for (let i = from; i < to; i++) {
      const fade = Math.min(1, (i - from + 1) / (FADE_SAMPLES + 1), (to - i) / (FADE_SAMPLES + 1));
      track[i + shift] += c.samples[i] * gain * fade;
    }
    truth.push({ onsetMs: (at * 1000) / RATE_HZ, offsetMs: ((at + c.offsetSample - c.onsetSample) * 1000) / RATE_HZ });
  }
  return { track, truth };
}

function conditionSeed(c: Condition): number {
  return 1000 + NOISE_COLOURS.indexOf(c.noise) * 100 + c.snrDb;
}

/** Rounds to PCM16 as a 16-bit recording would hold it (clamped). */
function toPcm16(x: Float64Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * 32768))) / 32768;
  return out;
}

/** One condition's audio as the pipeline receives it, and the truth. `clips` defaults to the whole set. */
export function buildCondition(condition: Condition, clips: readonly string[] = ACCURACY_CLIPS): ConditionAudio {
  const { track, truth } = speechTrack(clips);
  const noiseRms = 10 ** ((SPEECH_LEVEL_DBFS - condition.snrDb) / 20);
  const noise = colouredNoise(condition.noise, track.length, noiseRms, conditionSeed(condition));
  for (let i = 0; i < track.length; i++) noise[i] += track[i];
  if (condition.channel === 'pcm16k') return { condition, truth, samples16k: toPcm16(noise) };
  // A phone line: 300-3400 Hz, 8 kHz, G.711 in a WAV file, read back as `earshot vad` would read it.
  const line = bandPass(noise, RATE_HZ, TELEPHONE_BAND_HZ[0], TELEPHONE_BAND_HZ[1]);
  const samples8k = resample(Float32Array.from(line), RATE_HZ, 8000);
  const wavBytes = writeWav({
    sampleRateHz: 8000,
    channels: [samples8k],
    encoding: condition.channel === 'mulaw8k' ? 'mulaw' : 'alaw',
  });
  return { condition, truth, ...wavAs16k(readWav(wavBytes)) };
}
