import { describe, expect, it } from 'vitest';
import { measureKokoroFixtureRtf } from '../../../src/bench/tts/kokoro_rtf.ts';

// The bench piece runs and reports what `earshot bench tts` prints (the figure itself is a benchmark's,
// never asserted here).

describe('measureKokoroFixtureRtf', () => {
  it('returns a positive finite real-time factor and the chosen precision', async () => {
    const result = await measureKokoroFixtureRtf({ answers: 1, intraOpThreads: 1 });
    expect(Object.keys(result).sort()).toEqual(['kokoro_fixture_rtf', 'precision']);
    expect(Number.isFinite(result.kokoro_fixture_rtf) && result.kokoro_fixture_rtf > 0).toBe(true);
    expect(['fp32', 'fp16', 'q8']).toContain(result.precision);
  });
});
