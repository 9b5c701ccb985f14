// Deterministic speech test audio built from real recordings (Debian's pocketsphinx-testdata) and espeak-ng,
// cached under os.tmpdir()/earshot-fixtures keyed by the builder's parameters (same params, same file; a
// rebuild gives identical bytes). Every builder returns 16 kHz mono samples exactly as stored (PCM16) plus the
// path of the WAV, so a Chromium test can play the same audio.
//
// Clip ids: 'librivox/0870' .. 'librivox/0930' (Sense and Sensibility excerpts, 3-7 s, 16 kHz),
// 'cards/001' .. 'cards/005' (an4-style "ten of clubs" utterances, 1-3.5 s), 'raw/goforward', 'raw/numbers',
// 'raw/something' (s16le 16 kHz), and 'espeak:<text>' (espeak-ng en-us at 150 wpm, resampled by sox).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speechExtent, type SpeechExtent } from './speech_extent.ts';
import {
  FIXTURE_SAMPLE_RATE_HZ,
  decodeWithSox,
  encodeWav16kMono,
  fixturePath,
  quantizeToPcm16,
  readCachedWav,
  writeFileAtomic,
} from './speech_wav_io.ts';

export const POCKETSPHINX_DATA_DIR = '/usr/share/pocketsphinx/test/data';
export const LIBRIVOX_CLIPS = ['librivox/0870', 'librivox/0880', 'librivox/0890', 'librivox/0920', 'librivox/0930'];
export const CARD_CLIPS = ['cards/001', 'cards/002', 'cards/003', 'cards/004', 'cards/005'];
export const RAW_CLIPS = ['raw/goforward', 'raw/numbers', 'raw/something'];
/** sox `synth whitenoise vol 0.01` level: uniform noise with peak 0.01 (about -45 dBFS RMS). */
export const DEFAULT_NOISE_LEVEL = 0.01;
/** Own-recording context kept around a clip's speech when it is placed (room tone, breath), in ms. */
export const CLIP_CONTEXT_MS = 120;
const CROP_FADE_SAMPLES = 160; // 10 ms fade at crop edges so cropping adds no click

export interface TruthSegment {
  onsetMs: number;
  offsetMs: number;
}

export interface Fixture {
  samples16k: Float32Array;
  wavPath: string;
}

export interface PlacedFixture extends Fixture {
  truth: TruthSegment[];
}

export interface ContinuousFixture extends Fixture {
  /** Pauses inserted between clips' speech, [startSample, endSample). Clips may also pause inside. */
  pauses: { startSample: number; endSample: number }[];
}

export function pocketsphinxAvailable(): boolean {
  return existsSync(join(POCKETSPHINX_DATA_DIR, 'librivox'));
}

export function clipPath(id: string): string {
  const [kind, name] = id.split('/');
  if (kind === 'librivox')
    return join(POCKETSPHINX_DATA_DIR, 'librivox', `sense_and_sensibility_01_austen_64kb-${name}.wav`);
  if (kind === 'cards') return join(POCKETSPHINX_DATA_DIR, 'cards', `${name}.wav`);
  if (kind === 'raw') return join(POCKETSPHINX_DATA_DIR, `${name}.raw`);
  throw new Error(`unknown clip id ${id}`);
}

const clipMemo = new Map<string, Float32Array>();

/** A clip's clean 16 kHz samples, decoded once per process (espeak renders also cached on disk). */
export function loadClip(id: string): Float32Array {
  const memo = clipMemo.get(id);
  if (memo) return memo;
  const samples = id.startsWith('espeak:')
    ? espeakClip(id.slice('espeak:'.length))
    : quantizeToPcm16(decodeWithSox(clipPath(id)));
  clipMemo.set(id, samples);
  return samples;
}

export function clipExtent(id: string): SpeechExtent {
  return speechExtent(loadClip(id));
}

function espeakClip(text: string): Float32Array {
  const path = fixturePath('espeak', { text, voice: 'en-us', wpm: 150 }, 'wav');
  if (!existsSync(path)) {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-espeak-'));
    try {
      const raw = join(dir, 'out.wav');
      execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
      writeFileAtomic(path, encodeWav16kMono(decodeWithSox(raw)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return readCachedWav(path);
}

import { seededRandom } from '../../src/bench/accuracy/noise.ts';

export { seededRandom };

/** Uniform white noise in [-level, level], like sox `synth whitenoise vol <level>`. */
export function whiteNoise(samples: number, level: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = (2 * random() - 1) * level;
  return out;
}

const msToSamples = (ms: number) => Math.round((ms * FIXTURE_SAMPLE_RATE_HZ) / 1000);
const samplesToMs = (samples: number) => (samples * 1000) / FIXTURE_SAMPLE_RATE_HZ;

/** Adds clip[from, to) at `at` into `out`, with short fades at the crop edges. */
function addCropped(out: Float32Array, clip: Float32Array, from: number, to: number, at: number): void {
  const length = to - from;
  const fade = Math.min(CROP_FADE_SAMPLES, Math.floor(length / 2));
  for (let i = 0; i < length; i++) {
    const target = at + i;
    if (target < 0 || target >= out.length) continue;
    const gain = Math.min(1, (i + 1) / (fade + 1), (length - i) / (fade + 1));
    out[target] += clip[from + i] * gain;
  }
}

function cached<T extends Fixture>(
  builder: string,
  params: unknown,
  build: () => { samples16k: Float32Array; meta: Omit<T, keyof Fixture> },
): T {
  const wavPath = fixturePath(builder, params, 'wav');
  const metaPath = fixturePath(builder, params, 'json');
  if (!existsSync(wavPath) || !existsSync(metaPath)) {
    const { samples16k, meta } = build();
    writeFileAtomic(wavPath, encodeWav16kMono(samples16k));
    writeFileAtomic(metaPath, JSON.stringify(meta));
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<T, keyof Fixture>;
  return { ...meta, samples16k: readCachedWav(wavPath), wavPath } as T;
}

export interface PlaceOptions {
  clips: string[];
  /**
   * Non-speech around and between the clips' SPEECH (not file edges), in ms: [before the first onset,
   * between clip 0 and 1, ..., after the last offset], clips.length + 1 values; a single number means all.
   */
  gapsMs: number | number[];
  noiseLevel?: number;
  seed?: number;
}

/**
 * Clips placed over white noise with known gaps. Each clip contributes its speech extent plus up to
 * CLIP_CONTEXT_MS of its own recording either side; truth = the clean clip's extent + its placement offset.
 */
export function placeWithGaps(options: PlaceOptions): PlacedFixture {
  const { clips } = options;
  const gapsMs =
    typeof options.gapsMs === 'number' ? new Array<number>(clips.length + 1).fill(options.gapsMs) : options.gapsMs;
  if (gapsMs.length !== clips.length + 1)
    throw new Error(`placeWithGaps: need ${clips.length + 1} gaps, got ${gapsMs.length}`);
  const noiseLevel = options.noiseLevel ?? DEFAULT_NOISE_LEVEL;
  const seed = options.seed ?? 1;
  const params = { clips, gapsMs, noiseLevel, seed, context: CLIP_CONTEXT_MS };
  return cached<PlacedFixture>('placed', params, () => {
    const context = msToSamples(CLIP_CONTEXT_MS);
    const placements: { clip: Float32Array; extent: SpeechExtent; onsetAt: number }[] = [];
    let cursor = 0;
    clips.forEach((id, i) => {
      const clip = loadClip(id);
      const extent = speechExtent(clip);
      const onsetAt = cursor + msToSamples(gapsMs[i]);
      placements.push({ clip, extent, onsetAt });
      cursor = onsetAt + (extent.offsetSample - extent.onsetSample);
    });
    const total = cursor + msToSamples(gapsMs[clips.length]);
    const out = whiteNoise(total, noiseLevel, seed);
    const truth: TruthSegment[] = [];
    for (const { clip, extent, onsetAt } of placements) {
      const from = Math.max(0, extent.onsetSample - context);
      const to = Math.min(clip.length, extent.offsetSample + context);
      addCropped(out, clip, from, to, onsetAt - (extent.onsetSample - from));
      truth.push({
        onsetMs: samplesToMs(onsetAt),
        offsetMs: samplesToMs(onsetAt + extent.offsetSample - extent.onsetSample),
      });
    }
    return { samples16k: quantizeToPcm16(out), meta: { truth } };
  });
}

/** Noise alone (no speech anywhere), `seconds` long. */
export function noiseOnly(options: { seconds: number; noiseLevel?: number; seed?: number }): Fixture {
  const params = {
    seconds: options.seconds,
    noiseLevel: options.noiseLevel ?? DEFAULT_NOISE_LEVEL,
    seed: options.seed ?? 3,
  };
  return cached<Fixture>('noise', params, () => ({
    samples16k: quantizeToPcm16(whiteNoise(msToSamples(params.seconds * 1000), params.noiseLevel, params.seed)),
    meta: {},
  }));
}

export const ESPEAK_SENTENCES = [
  'The train to Lyon leaves at nine in the morning from platform four.',
  'Please book a quiet room near the old harbour for three nights.',
  'What is the weather going to be like on Saturday afternoon?',
  'Remind me to buy tickets for the museum before we leave.',
  'My flight number is seven four two and it lands at noon.',
  'Could you find a restaurant that serves vegetarian food nearby?',
];

/**
 * At least `seconds` (>= 90) of continuous speech with natural short pauses: LibriVox excerpts, card and
 * digit recordings and espeak sentences, each cut to its speech extent, joined by pauses of 150-400 ms and
 * every fifth pause a short 30-60 ms one, over faint room noise (peak 0.002). No inserted pause reaches
 * 500 ms, so with the default silence_duration_ms mostly the length cap cuts it (a few clips end in quiet
 * speech Silero calls silence, which can add up to one turn end).
 */
export function continuousSpeech(options: { seconds: number; seed?: number }): ContinuousFixture {
  if (options.seconds < 90) throw new Error('continuousSpeech: seconds must be >= 90');
  const seed = options.seed ?? 7;
  const params = { seconds: options.seconds, seed, roomNoise: 0.002 };
  return cached<ContinuousFixture>('continuous', params, () => {
    const order = [...LIBRIVOX_CLIPS, ...CARD_CLIPS, ...RAW_CLIPS, ...ESPEAK_SENTENCES.map((s) => `espeak:${s}`)];
    const random = seededRandom(seed);
    const pieces: Float32Array[] = [];
    const pauses: ContinuousFixture['pauses'] = [];
    let length = 0;
    for (let i = 0; length < msToSamples(options.seconds * 1000); i++) {
      if (i > 0) {
        const pauseMs = i % 5 === 0 ? 30 + random() * 30 : 150 + random() * 250;
        const pause = msToSamples(pauseMs);
        pauses.push({ startSample: length, endSample: length + pause });
        pieces.push(new Float32Array(pause));
        length += pause;
      }
      const clip = loadClip(order[i % order.length]);
      const extent = speechExtent(clip);
      const speech = new Float32Array(extent.offsetSample - extent.onsetSample);
      addCropped(speech, clip, extent.onsetSample, extent.offsetSample, 0);
      pieces.push(speech);
      length += speech.length;
    }
    const out = whiteNoise(length, params.roomNoise, seed);
    let at = 0;
    for (const piece of pieces) {
      for (let i = 0; i < piece.length; i++) out[at + i] += piece[i];
      at += piece.length;
    }
    return { samples16k: quantizeToPcm16(out), meta: { pauses } };
  });
}
