import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChatPrompt } from '../../../src/engine/phi4mm/chat_template.ts';
import { DEFAULT_KV_GROWTH_TOKENS, type InPlaceKvCache } from '../../../src/engine/phi4mm/kv_cache_in_place.ts';
import { GenerationSession, type GenerationDelta } from '../../../src/engine/phi4mm/generate.ts';
import { SeededRandom } from '../../../src/engine/phi4mm/sampling.ts';
import { loadTinyFixture, type LoadedFixture } from './fixture_model.ts';

let fx: LoadedFixture;
let prompt: number[];
const sessions: GenerationSession[] = [];

function session(prefillChunkTokens?: number): GenerationSession {
  const s = new GenerationSession(fx.model, fx.tokenizer, { prefillChunkTokens });
  sessions.push(s);
  return s;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  fx = await loadTinyFixture();
  prompt = buildChatPrompt(fx.tokenizer, {
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Hello, how can I help you? The weather in Paris is sunny today.' },
    ],
  }).inputIds;
}, 180_000);

afterAll(async () => {
  sessions.forEach((s) => s.dispose());
  await fx?.model.dispose();
});

describe('generation on the tiny fixture model', () => {
  it('greedy equals greedy, and streams deltas that add up to the text', async () => {
    const deltas: GenerationDelta[] = [];
    const a = await session().generate({ inputIds: prompt, maxNewTokens: 8, stopIds: [] }, (d) => deltas.push(d));
    const b = await session().generate({ inputIds: prompt, maxNewTokens: 8, stopIds: [] });
    expect(a.tokenIds).toHaveLength(8);
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(a.finishReason).toBe('length');
    expect(a.usage).toEqual({ promptTokens: prompt.length, completionTokens: 8 });
    expect(deltas.map((d) => d.text).join('')).toBe(a.text);
    expect(a.text).toBe(fx.tokenizer.decode(a.tokenIds));
    expect(a.tokenIds.every((id) => id <= 200028)).toBe(true);
  });

  it('seeded sampling is deterministic for a seed and varies across seeds', async () => {
    const run = (seed: number) =>
      session().generate({
        inputIds: prompt,
        maxNewTokens: 6,
        stopIds: [],
        sampling: { temperature: 1.5, topK: 50, topP: 0.95, seed },
      });
    const [a, b] = [await run(11), await run(11)];
    expect(a.tokenIds).toEqual(b.tokenIds);
    const others = await Promise.all([12, 13, 14].map(async (seed) => (await run(seed)).tokenIds.join(',')));
    expect(others.some((o) => o !== a.tokenIds.join(','))).toBe(true);
  });

  it('a stop id stops generation and is not part of the output', async () => {
    const greedy = await session().generate({ inputIds: prompt, maxNewTokens: 4, stopIds: [] });
    const stopAtFirst = await session().generate({ inputIds: prompt, maxNewTokens: 4, stopIds: [greedy.tokenIds[0]] });
    expect(stopAtFirst).toMatchObject({
      tokenIds: [],
      stopTokenId: greedy.tokenIds[0],
      finishReason: 'stop',
      text: '',
    });
    expect(stopAtFirst.usage.completionTokens).toBe(1);
    const third = greedy.tokenIds[2];
    const firstIndex = greedy.tokenIds.indexOf(third);
    const stopAtThird = await session().generate({ inputIds: prompt, maxNewTokens: 4, stopIds: [third] });
    expect(stopAtThird.finishReason).toBe('stop');
    expect(stopAtThird.tokenIds).toEqual(greedy.tokenIds.slice(0, firstIndex));
  });

  it('abort takes effect at the next step', async () => {
    const controller = new AbortController();
    let seen = 0;
    const s = session();
    const result = await s.generate(
      { inputIds: prompt, maxNewTokens: 20, stopIds: [], signal: controller.signal },
      () => {
        if (++seen === 2) controller.abort();
      },
    );
    expect(result.finishReason).toBe('aborted');
    expect(result.tokenIds).toHaveLength(2);
    // The last sampled token is pending, not lost: the conversation length counts it.
    expect(s.length).toBe(prompt.length + 2);
    const pre = new AbortController();
    pre.abort();
    const none = await session().generate({ inputIds: prompt, maxNewTokens: 5, signal: pre.signal });
    expect(none).toMatchObject({ finishReason: 'aborted', tokenIds: [] });
  });

  it('cached decoding equals recomputing the whole sequence without cache', async () => {
    const cached = session(1000);
    let logits = (await cached.append(prompt))!;
    const generated: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = cached.pickToken(logits, undefined, new SeededRandom(0));
      generated.push(t);
      logits = (await cached.append([t]))!;
    }
    const fresh = session(1000);
    const full = (await fresh.append([...prompt, ...generated]))!;
    expect(maxAbsDiff(logits, full)).toBeLessThan(1e-4);
    expect(cached.length).toBe(fresh.length);
    // And generate() produces the same greedy continuation.
    const viaGenerate = await session().generate({ inputIds: prompt, maxNewTokens: 5, stopIds: [] });
    expect(viaGenerate.tokenIds).toEqual(generated);
  });

  it('chunked prefill equals one-shot prefill', async () => {
    const oneShot = (await session(1000).append(prompt))!;
    for (const chunk of [1, 3, 16]) {
      const chunked = (await session(chunk).append(prompt))!;
      expect(maxAbsDiff(chunked, oneShot)).toBeLessThan(1e-4);
    }
  });

  it('rewind equals never having appended, and keeps KV bytes accounted', async () => {
    const a = session(8);
    await a.append(prompt);
    const checkpoint = a.length;
    // An in-place cache holds its whole capacity: the length plus at most two growth chunks.
    const held = () => (a.cache as InPlaceKvCache).capacity * a.cache.bytesPerToken;
    expect(a.kvBytes).toBe(held());
    expect(a.kvBytes).toBeGreaterThanOrEqual(checkpoint * a.cache.bytesPerToken);
    expect(a.kvBytes).toBeLessThanOrEqual((checkpoint + 2 * DEFAULT_KV_GROWTH_TOKENS) * a.cache.bytesPerToken);
    await a.generate({
      inputIds: fx.tokenizer.encode('<|user|>Transcribe<|end|><|assistant|>'),
      maxNewTokens: 3,
      stopIds: [],
    });
    expect(a.length).toBeGreaterThan(checkpoint);
    a.truncate(checkpoint);
    expect(a.kvBytes).toBe(held());
    expect(a.kvBytes).toBeLessThanOrEqual((checkpoint + 2 * DEFAULT_KV_GROWTH_TOKENS) * a.cache.bytesPerToken);
    const next = fx.tokenizer.encode('<|user|>Thank you<|end|><|assistant|>');
    const afterRewind = (await a.append(next))!;
    const b = session(8);
    await b.append(prompt);
    const never = (await b.append(next))!;
    expect(maxAbsDiff(afterRewind, never)).toBeLessThan(1e-4);
  });

  it('refuses a context over the limit', async () => {
    const s = session();
    await expect(s.append(new Array(fx.model.io.contextLength + 1).fill(72))).rejects.toMatchObject({
      code: 'E_ENGINE',
    });
  });
});
