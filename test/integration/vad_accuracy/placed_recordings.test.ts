// Real recordings (pocketsphinx-testdata: LibriVox excerpts and an4 card utterances) and espeak-ng speech
// placed over white noise with known gaps, segmented by the same operators a live connection uses.
import { describe, expect, it } from 'vitest';
import { defaultConfig, type VadConfig } from '../../../src/config/schema.ts';
import { segmentOffline } from '../../../src/pipeline/offline.ts';
import { msToSamples } from '../../../src/pipeline/types.ts';
import {
  CARD_CLIPS,
  ESPEAK_SENTENCES,
  LIBRIVOX_CLIPS,
  noiseOnly,
  placeWithGaps,
  type PlacedFixture,
} from '../../helpers/speech_fixtures.ts';
import {
  OFFSET_TOLERANCE_MS,
  ONSET_TOLERANCE_MS,
  describeMeasured,
  describeSegments,
  measure,
} from './accuracy_report.ts';

const vad: VadConfig = defaultConfig().vad;

async function expectAccurate(fixture: PlacedFixture): Promise<void> {
  const utterances = await segmentOffline(fixture.samples16k, vad);
  expect(utterances.length, `expected ${fixture.truth.length} utterances, got:\n${describeSegments(utterances)}`).toBe(
    fixture.truth.length,
  );
  const measured = measure(utterances, fixture.truth);
  const report = describeMeasured(measured);
  for (const m of measured) {
    expect(Math.abs(m.onsetErrorMs), `onset beyond ${ONSET_TOLERANCE_MS} ms:\n${report}`).toBeLessThanOrEqual(
      ONSET_TOLERANCE_MS,
    );
    expect(Math.abs(m.offsetErrorMs), `offset beyond ${OFFSET_TOLERANCE_MS} ms:\n${report}`).toBeLessThanOrEqual(
      OFFSET_TOLERANCE_MS,
    );
  }
}

/** The audio handed to the model must contain all of the speech: prefix padding and hang-over cover the truth. */
async function expectNoClipping(fixture: PlacedFixture): Promise<void> {
  const utterances = await segmentOffline(fixture.samples16k, vad);
  expect(utterances.length).toBe(fixture.truth.length);
  utterances.forEach((u, i) => {
    expect(u.startSample, describeSegments(utterances)).toBeLessThanOrEqual(msToSamples(fixture.truth[i].onsetMs));
    expect(u.endSample, describeSegments(utterances)).toBeGreaterThanOrEqual(msToSamples(fixture.truth[i].offsetMs));
    expect(u.endReason).toBe('silence');
  });
}

const arrangements = {
  'LibriVox excerpts, 1.5 s gaps': () => placeWithGaps({ clips: LIBRIVOX_CLIPS, gapsMs: 1500, seed: 1 }),
  'LibriVox excerpts reversed, 1.0-2.0 s gaps': () =>
    placeWithGaps({ clips: [...LIBRIVOX_CLIPS].reverse(), gapsMs: [1000, 1200, 2000, 1000, 1600, 2000], seed: 2 }),
  'card utterances, 1.5 s gaps': () => placeWithGaps({ clips: CARD_CLIPS, gapsMs: 1500, seed: 1 }),
  'card utterances reversed, 1.0-2.0 s gaps': () =>
    placeWithGaps({ clips: [...CARD_CLIPS].reverse(), gapsMs: [1000, 1200, 2000, 1000, 1600, 2000], seed: 2 }),
};

describe('VAD accuracy on placed recordings (white noise, peak 0.01)', () => {
  for (const [name, build] of Object.entries(arrangements)) {
    it(`${name}: one utterance per clip, onset within ${ONSET_TOLERANCE_MS} ms, offset within ${OFFSET_TOLERANCE_MS} ms`, async () => {
      await expectAccurate(build());
    });
    it(`${name}: every utterance's audio contains all of its speech`, async () => {
      await expectNoClipping(build());
    });
  }

  it('finds no utterance in 30 s of noise alone', async () => {
    const utterances = await segmentOffline(noiseOnly({ seconds: 30 }).samples16k, vad);
    expect(utterances, describeSegments(utterances)).toHaveLength(0);
  });
});

describe('VAD on espeak-ng speech', () => {
  it('four separately spoken sentences with 1.5 s gaps give four utterances', async () => {
    const fixture = placeWithGaps({
      clips: ESPEAK_SENTENCES.slice(0, 4).map((s) => `espeak:${s}`),
      gapsMs: 1500,
      seed: 4,
    });
    await expectAccurate(fixture);
  });

  it("one multi-sentence rendering stays one utterance: espeak's ~400 ms sentence pauses are under silence_duration_ms", async () => {
    const fixture = placeWithGaps({
      clips: [`espeak:${ESPEAK_SENTENCES.slice(0, 3).join(' ')}`],
      gapsMs: 1500,
      seed: 5,
    });
    const utterances = await segmentOffline(fixture.samples16k, vad);
    expect(utterances, describeSegments(utterances)).toHaveLength(1);
  });

  it('the same rendering splits into its three sentences with silence_duration_ms 200', async () => {
    const fixture = placeWithGaps({
      clips: [`espeak:${ESPEAK_SENTENCES.slice(0, 3).join(' ')}`],
      gapsMs: 1500,
      seed: 5,
    });
    const utterances = await segmentOffline(fixture.samples16k, { ...vad, silence_duration_ms: 200 });
    expect(utterances, describeSegments(utterances)).toHaveLength(3);
  });
});
