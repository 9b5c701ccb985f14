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
  it(
    `${AUDIO_MINUTES} min of speech through one session with the default config: every utterance accounted for, usage adds up, memory levels off`,
    async () => {
      const tracker = new SoakTracker();
      const r = await benchSoak({
        minutes: AUDIO_MINUTES,
        blockMinutes: 1,
        tracker,
        session: { max_output_tokens: 32 },
      });
      expect(r.context_budget_tokens).toBe(4096);
      expect(r.caption_max_tokens).toBe(256);
      expect(r.committed).toBeGreaterThan(AUDIO_MINUTES * 5);
      // Per utterance: a transcript (a reported failure would be accounted for, but none is expected) and an
      // answer that did not fail.
      for (const u of tracker.utterances) {
        expect({
          item: u.itemId,
          transcribed: u.transcribedAtMs !== undefined,
          failure: u.transcriptionFailed,
        }).toEqual({ item: u.itemId, transcribed: true, failure: undefined });
        expect({ item: u.itemId, answer: u.responseStatus }).toEqual({ item: u.itemId, answer: 'incomplete' });
      }
      expect(tracker.errors).toEqual([]);
      expect(tracker.usageProblems).toEqual([]);
      expect(r.negative_usage_fields).toBe(0);
      // The context filled and was rebuilt (old audio replaced by transcripts) at least once.
      expect(r.rebuilds).toBeGreaterThanOrEqual(1);
      // Memory levels off: the context grows to nearly its budget before the first rebuild, and after it
      // the KV cache never holds more than that peak (plus a turn's worth); the process grows by less than
      // 150 MB from the end of the first block.
      const kvBeforeRebuild = Math.max(...tracker.samples.filter((s) => s.rebuilds === 0).map((s) => s.kvBytes));
      const kvPeak = Math.max(...tracker.samples.map((s) => s.kvBytes));
      expect(kvPeak).toBeLessThanOrEqual(kvBeforeRebuild * 1.1);
      expect(r.rss_mb_end - r.rss_mb_after_first_block).toBeLessThan(150);
      console.log(
        JSON.stringify({
          ...r,
          blocks: undefined,
          kv_mb_before_first_rebuild: kvBeforeRebuild / 2 ** 20,
          kv_mb_peak: kvPeak / 2 ** 20,
        }),
      );
    },
    Math.max(900_000, AUDIO_MINUTES * 240_000),
  );
});
