import { describe, expect, it } from 'vitest';
import { benchSoak } from '../../src/bench/soak_bench.ts';
import { SoakTracker } from '../../src/bench/soak_tracker.ts';

// Soak with the defaults users get (4096-token context budget, 256-token captions), through a real server
// socket with the tiny model: real speech replayed as fast as the server answers, every utterance waited
// for, asserted one by one. The same run as `earshot bench soak` (src/bench/soak_bench.ts), shorter to stay
// within CI time: SOAK_AUDIO_MINUTES changes the length. Answers are capped at 32 tokens by the client, as
// the tiny model never stops by itself; the captions keep the default length.
const AUDIO_MINUTES = Number(process.env.SOAK_AUDIO_MINUTES ?? 5);

describe('soak', () => {
  it(`${AUDIO_MINUTES} min of speech through one session with the default config: every utterance accounted for, usage adds up, memory levels off`, async () => {
    const tracker = new SoakTracker();
    const r = await benchSoak({ minutes: AUDIO_MINUTES, blockMinutes: 1, tracker, session: { max_output_tokens: 32 } });
    expect(r.context_budget_tokens).toBe(4096);
    expect(r.caption_max_tokens).toBe(256);
    expect(r.committed).toBeGreaterThan(AUDIO_MINUTES * 5);
    // Per utterance: a transcript (a reported failure would be accounted for, but none is expected) and an
    // answer that did not fail.
    for (const u of tracker.utterances) {
      expect({ item: u.itemId, transcribed: u.transcribedAtMs !== undefined, failure: u.transcriptionFailed }).toEqual({ item: u.itemId, transcribed: true, failure: undefined });
      expect({ item: u.itemId, answer: u.responseStatus }).toEqual({ item: u.itemId, answer: 'incomplete' });
    }
    expect(tracker.errors).toEqual([]);
    expect(tracker.usageProblems).toEqual([]);
    expect(r.negative_usage_fields).toBe(0);
    // The context filled and was rebuilt (old audio replaced by transcripts) at least once.
    expect(r.rebuilds).toBeGreaterThanOrEqual(1);
    // Memory levels off: the second half holds no more KV than the first half's peak allows, and the
    // process grows by less than 150 MB from the end of the first block.
    const half = Math.floor(tracker.samples.length / 2);
    const kvFirst = Math.max(...tracker.samples.slice(0, half).map((s) => s.kvBytes));
    const kvSecond = Math.max(...tracker.samples.slice(half).map((s) => s.kvBytes));
    expect(kvSecond).toBeLessThanOrEqual(kvFirst * 1.25);
    expect(r.rss_mb_end - r.rss_mb_after_first_block).toBeLessThan(150);
    console.log(JSON.stringify({ ...r, blocks: undefined }));
  }, Math.max(900_000, AUDIO_MINUTES * 240_000));
});
