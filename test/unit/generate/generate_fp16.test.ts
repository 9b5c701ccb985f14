import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InPlaceKvCache } from '../../../src/engine/phi4mm/kv_cache_in_place.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { encodeAudio } from '../../../src/engine/phi4mm/generate_audio.ts';
import { buildTaskPrompt, TASK_PROMPTS } from '../../../src/engine/phi4mm/chat_template.ts';
import { SeededRandom } from '../../../src/engine/phi4mm/sampling.ts';
import { fakeFeatures, loadTinyFixture, type LoadedFixture } from './fixture_model.ts';

// The GPU export's graphs take and return float16: everything crosses the boundary converted.
let fx: LoadedFixture;
const sessions: GenerationSession[] = [];

beforeAll(async () => {
  fx = await loadTinyFixture('float16');
}, 180_000);

afterAll(async () => {
  sessions.forEach((s) => s.dispose());
  await fx?.model.dispose();
});

describe('float16 graphs', () => {
  it('generates from audio with float16 tensors, deterministically, cached equal to recomputed', async () => {
    expect(fx.model.io.floatType).toBe('float16');
    const audio = await encodeAudio(fx.model, {
      frames: 40,
      data: fakeFeatures(40, 3),
      audioTokens: 5,
      sampleRateHz: 16000,
    });
    expect(audio.tensor.type).toBe('float16');
    const prompt = buildTaskPrompt(fx.tokenizer, TASK_PROMPTS.asr(), audio.rows).inputIds;
    const run = async () => {
      const s = new GenerationSession(fx.model, fx.tokenizer, { prefillChunkTokens: 8 });
      sessions.push(s);
      const result = await s.generate({ inputIds: prompt, audio: [audio], maxNewTokens: 5, stopIds: [] });
      expect(s.cache.length).toBe(prompt.length + 4);
      expect(s.kvBytes).toBe((s.cache as InPlaceKvCache).capacity * s.cache.bytesPerToken);
      return result;
    };
    const [a, b] = [await run(), await run()];
    expect(a.tokenIds).toHaveLength(5);
    expect(a.tokenIds).toEqual(b.tokenIds);

    const cached = new GenerationSession(fx.model, fx.tokenizer, { prefillChunkTokens: 8 });
    const full = new GenerationSession(fx.model, fx.tokenizer, { prefillChunkTokens: 1000 });
    sessions.push(cached, full);
    let logits = (await cached.append(prompt, [audio]))!;
    const generated: number[] = [];
    for (let i = 0; i < 3; i++) {
      generated.push(cached.pickToken(logits, undefined, new SeededRandom(0)));
      logits = (await cached.append([generated[i]]))!;
    }
    expect(generated).toEqual(a.tokenIds.slice(0, 3));
    const recomputed = (await full.append([...prompt, ...generated], [audio]))!;
    let maxDiff = 0;
    for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - recomputed[i]));
    expect(Number.isFinite(maxDiff)).toBe(true);
    expect(maxDiff).toBeLessThan(2e-2); // float16 outputs carry ~1e-3 relative rounding
  });
});
