// The length cap on >= 90 s of continuous speech: every utterance within the cap, cuts placed in pauses, and
// nothing dropped or duplicated (utterances + gaps = the input, to the sample).
import { describe, expect, it } from 'vitest';
import { defaultConfig, type VadConfig } from '../../../src/config/schema.ts';
import { segmentOffline } from '../../../src/pipeline/offline.ts';
import { msToSamples, type Utterance } from '../../../src/pipeline/types.ts';
import { continuousSpeech } from '../../helpers/speech_fixtures.ts';
import { levelDb } from '../../helpers/speech_extent.ts';
import { describeSegments } from './accuracy_report.ts';

const fixture = () => continuousSpeech({ seconds: 90 });

function expectExactCoverage(input: Float32Array, utterances: Utterance[]): void {
  let previousEnd = 0;
  for (const u of utterances) {
    expect(u.startSample, describeSegments(utterances)).toBeGreaterThanOrEqual(previousEnd); // disjoint, in order
    expect(u.endSample).toBeGreaterThan(u.startSample);
    expect(u.endSample).toBeLessThanOrEqual(input.length);
    expect(u.pcm16k.length).toBe(u.endSample - u.startSample);
    // Same samples as the input slice, bit for bit (compare as bytes: fast and exact).
    const expected = input.subarray(u.startSample, u.endSample);
    expect(
      Buffer.from(u.pcm16k.buffer, u.pcm16k.byteOffset, u.pcm16k.byteLength).equals(
        Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
      ),
    ).toBe(true);
    previousEnd = u.endSample;
  }
  // utterances + gaps = the whole input: the gaps are exactly the complement, so their lengths add up.
  const inUtterances = utterances.reduce((sum, u) => sum + (u.endSample - u.startSample), 0);
  const gaps = utterances.reduce((acc, u) => ({ sum: acc.sum + (u.startSample - acc.end), end: u.endSample }), {
    sum: 0,
    end: 0,
  });
  expect(inUtterances + gaps.sum + (input.length - gaps.end)).toBe(input.length);
}

/** A cut lies in a pause when the 32 ms around it is this much below the loudest 32 ms within 1 s either side. */
const PAUSE_BELOW_LOCAL_PEAK_DB = 15;

/**
 * A cap split must fall in a pause: the 32 ms of audio centred on the cut is at least 15 dB below the loudest
 * 32 ms within 1 s of it (a local measure: the LibriVox excerpts' own pauses hold room noise near -40 dBFS,
 * above the fixture's faint added noise, so one global threshold would call them speech), and the next
 * utterance starts exactly at the cut. A cut inside a word is within a few dB of its neighbourhood's peak.
 */
function expectSplitsInPauses(input: Float32Array, utterances: Utterance[]): number {
  const half = msToSamples(16);
  let splits = 0;
  utterances.forEach((u, i) => {
    if (u.endReason !== 'max_duration') return;
    splits++;
    const level = levelDb(input, u.endSample - half, u.endSample + half);
    let localPeak = -Infinity;
    for (let at = u.endSample - msToSamples(1000); at <= u.endSample + msToSamples(1000); at += half) {
      localPeak = Math.max(localPeak, levelDb(input, at - half, at + half));
    }
    expect(
      level,
      `cut at sample ${u.endSample} (${(u.endSample / 16).toFixed(0)} ms) is at ${level.toFixed(1)} dBFS, local peak ${localPeak.toFixed(1)} dBFS`,
    ).toBeLessThanOrEqual(localPeak - PAUSE_BELOW_LOCAL_PEAK_DB);
    const next = utterances[i + 1];
    if (next) expect(next.startSample, describeSegments(utterances)).toBe(u.endSample);
  });
  return splits;
}

async function segmentContinuous(vad: VadConfig): Promise<{ input: Float32Array; utterances: Utterance[] }> {
  const input = fixture().samples16k;
  return { input, utterances: await segmentOffline(input, vad) };
}

describe('40 s cap on continuous speech', () => {
  it('the fixture is at least 90 s of speech with only short inserted pauses', () => {
    const f = fixture();
    expect(f.samples16k.length).toBeGreaterThanOrEqual(90 * 16_000);
    for (const p of f.pauses) expect(p.endSample - p.startSample).toBeLessThan(msToSamples(400) + 1);
    expect(f.pauses.some((p) => p.endSample - p.startSample <= msToSamples(60))).toBe(true);
  });

  it('default config: every utterance <= 40.000 s, cuts in pauses, exact coverage', async () => {
    const vad = defaultConfig().vad;
    const { input, utterances } = await segmentContinuous(vad);
    for (const u of utterances)
      expect(u.endSample - u.startSample, describeSegments(utterances)).toBeLessThanOrEqual(640_000);
    expect(
      utterances.some((u) => u.endReason === 'max_duration'),
      describeSegments(utterances),
    ).toBe(true);
    expectSplitsInPauses(input, utterances);
    expectExactCoverage(input, utterances);
  });

  it('a 12 s cap splits the same speech many times, each cut in a pause', async () => {
    const vad = { ...defaultConfig().vad, max_utterance_ms: 12_000, split_search_ms: 6_000 };
    const { input, utterances } = await segmentContinuous(vad);
    for (const u of utterances)
      expect(u.endSample - u.startSample, describeSegments(utterances)).toBeLessThanOrEqual(msToSamples(12_000));
    expect(expectSplitsInPauses(input, utterances), describeSegments(utterances)).toBeGreaterThanOrEqual(4);
    expectExactCoverage(input, utterances);
  });
});
