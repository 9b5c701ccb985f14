import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { runBatchedStep } from '../../../src/engine/phi4mm/batched_step.ts';
import { arenaStats } from '../../../src/engine/phi4mm/batched_step_in_place.ts';
import { GenerationSession, type GenerationSessionOptions } from '../../../src/engine/phi4mm/generate.ts';
import { InPlaceKvCache } from '../../../src/engine/phi4mm/kv_cache_in_place.ts';
import { loadTinyFixture, type LoadedFixture } from './fixture_model.ts';

// The KV cache the text graph appends to in place must give exactly what the copying path gives (logits
// and cache contents, bit for bit): one session, chunked prefill across capacity growths, rewinds,
// batched rows of different lengths in an arena, and a session crossing the LongRoPE switch at 4096.

const fixtures: Partial<Record<'float32' | 'float16', LoadedFixture>> = {};
afterAll(async () => {
  for (const fx of Object.values(fixtures)) await fx?.model.dispose();
});

function ids(length: number, seed: number): number[] {
  return Array.from({ length }, (_, j) => 100 + ((j * 7 + seed * 13) % 5000));
}

/** Bit identity (NaN-safe, and fast on 200064-wide logits where toEqual over arrays is slow). */
function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every layer's key and value positions, as one hex digest per tensor (compared bit for bit). */
function cacheValues(g: GenerationSession): string[] {
  const out: string[] = [];
  for (let layer = 0; layer < 2; layer++) {
    const { key, value } = g.cache.layerTensors(layer) as { key: ort.Tensor; value: ort.Tensor };
    for (const t of [key, value]) {
      const data = t.data as Float32Array | Uint16Array;
      out.push(
        `${t.dims.join('x')}:${createHash('sha256')
          .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
          .digest('hex')}`,
      );
    }
  }
  return out;
}

/** Both paths side by side: every operation is applied to both and their logits compared. */
function pair(
  fx: LoadedFixture,
  options: GenerationSessionOptions = {},
): { copy: GenerationSession; inPlace: GenerationSession } {
  return {
    copy: new GenerationSession(fx.model, fx.tokenizer, { ...options, kvCache: 'copy' }),
    inPlace: new GenerationSession(fx.model, fx.tokenizer, { ...options, kvCache: 'in_place' }),
  };
}

async function appendBoth(
  p: { copy: GenerationSession; inPlace: GenerationSession },
  tokens: number[],
  logits = true,
): Promise<void> {
  const a = await p.copy.append(tokens, [], undefined, { logits });
  const b = await p.inPlace.append(tokens, [], undefined, { logits });
  if (logits) expect(sameBits(b!, a!)).toBe(true);
  expect(p.inPlace.length).toBe(p.copy.length);
}

describe.each(['float32', 'float16'] as const)('in-place KV cache (%s)', (type) => {
  let fx: LoadedFixture;
  beforeAll(async () => {
    fixtures[type] ??= await loadTinyFixture(type);
    fx = fixtures[type]!;
  });

  it('single session: chunked prefill across growths, then decode steps, bit-identical', async () => {
    const p = pair(fx, { prefillChunkTokens: 16, kvGrowthTokens: 8 });
    expect(p.inPlace.cache).toBeInstanceOf(InPlaceKvCache);
    await appendBoth(p, ids(150, 1));
    const capacities = new Set<number>();
    for (let step = 0; step < 20; step++) {
      await appendBoth(p, [1000 + step]);
      capacities.add((p.inPlace.cache as InPlaceKvCache).capacity);
    }
    expect(cacheValues(p.inPlace)).toEqual(cacheValues(p.copy));
    // Grown in chunks: capacity stays ahead of the length, a new buffer only every few steps.
    const cache = p.inPlace.cache as InPlaceKvCache;
    expect(cache.capacity).toBeGreaterThanOrEqual(cache.length);
    expect(cache.capacity - cache.length).toBeLessThanOrEqual(16);
    expect(capacities.size).toBeLessThanOrEqual(4);
  });

  it('rewind moves the length; new tokens overwrite the branch; compaction keeps the prefix', async () => {
    const p = pair(fx, { prefillChunkTokens: 32, kvGrowthTokens: 16 });
    await appendBoth(p, ids(40, 2));
    const checkpoint = p.copy.length;
    await appendBoth(p, ids(200, 3), false); // a long side branch (an ASR pass)
    const cache = p.inPlace.cache as InPlaceKvCache;
    const grown = cache.capacity;
    p.copy.truncate(checkpoint);
    p.inPlace.truncate(checkpoint);
    expect(cache.length).toBe(checkpoint);
    expect(cache.capacity).toBeLessThan(grown); // compacted: 240 positions of room for 40
    await appendBoth(p, ids(5, 4));
    expect(cacheValues(p.inPlace)).toEqual(cacheValues(p.copy));
    // A short rewind only moves the length (same buffer, same capacity).
    const before = cache.placement!.storage;
    p.copy.truncate(checkpoint + 2);
    p.inPlace.truncate(checkpoint + 2);
    expect(cache.placement!.storage).toBe(before);
    await appendBoth(p, [4242]);
    expect(cacheValues(p.inPlace)).toEqual(cacheValues(p.copy));
  });

  it('batched rows of different lengths run in one arena, formed once, bit-identical to the copying batch', async () => {
    const lengths = [5, 37, 1, 120, 64, 2];
    const copying = lengths.map(() => new GenerationSession(fx.model, fx.tokenizer, { kvCache: 'copy' }));
    const batched = lengths.map(
      () => new GenerationSession(fx.model, fx.tokenizer, { kvCache: 'in_place', kvGrowthTokens: 8 }),
    );
    for (const [i, n] of lengths.entries()) {
      await copying[i].append(ids(n, i), [], undefined, { logits: false });
      await batched[i].append(ids(n, i), [], undefined, { logits: false });
    }
    const rowsOf = (sessions: GenerationSession[], order: number[], token: (i: number) => number) =>
      Promise.all(
        order.map(async (i) => ({
          cache: sessions[i].cache,
          embeds: await sessions[i].embed([token(i)]),
          loraFeeds: {},
        })),
      );
    const all = lengths.map((_, i) => i);
    const formedBefore = arenaStats.formed;
    for (let step = 0; step < 12; step++) {
      const token = (i: number) => 1000 + i * 3 + step;
      const expected = await runBatchedStep(fx.model, await rowsOf(copying, all, token));
      const logits = await runBatchedStep(fx.model, await rowsOf(batched, all, token));
      all.forEach((i) => expect(sameBits(logits[i], expected[i])).toBe(true));
    }
    // 120 + 12 positions outgrow the first arena (121 + 8 rounded): formed at most twice in 12 steps.
    expect(arenaStats.formed - formedBefore).toBeLessThanOrEqual(2);
    for (let i = 0; i < lengths.length; i++) expect(cacheValues(batched[i])).toEqual(cacheValues(copying[i]));
    // Rows handed over in another order: the arena runs them in its row order and maps logits back.
    const rotated = all.map((i) => (i + 2) % all.length);
    const inOrder = await runBatchedStep(fx.model, await rowsOf(copying, all, (i) => 400 + i));
    const back = await runBatchedStep(fx.model, await rowsOf(batched, rotated, (i) => 400 + i));
    rotated.forEach((i, r) => expect(sameBits(back[r], inOrder[i])).toBe(true));
    // A row of the arena stepping alone keeps writing into its arena row.
    const row = batched[1].cache as InPlaceKvCache;
    const arena = row.placement!.storage;
    expect(arena.rows).toBe(lengths.length);
    const a = (await copying[1].append([77]))!;
    const b = (await batched[1].append([77]))!;
    expect(sameBits(b, a)).toBe(true);
    expect(row.placement!.storage).toBe(arena);
    // A batch of a subset forms a new arena (one copy of each row), then agrees again.
    const subset = [0, 3];
    const fromCopy = await runBatchedStep(fx.model, await rowsOf(copying, subset, () => 55));
    const fromArena = await runBatchedStep(fx.model, await rowsOf(batched, subset, () => 55));
    subset.forEach((_, r) => expect(sameBits(fromArena[r], fromCopy[r])).toBe(true));
    expect((batched[0].cache as InPlaceKvCache).placement!.storage.rows).toBe(2);
  });

  it('crosses the LongRoPE switch at 4096 exactly as the copying path', async () => {
    expect(fx.model.io.contextLength).toBeGreaterThan(4100);
    const p = pair(fx, { prefillChunkTokens: 1024 });
    await appendBoth(p, ids(4090, 5), false);
    const atPosition4090 = (await p.copy.append([2000]))!.slice();
    expect(sameBits((await p.inPlace.append([2000]))!, atPosition4090)).toBe(true);
    for (let step = 1; step < 10; step++) await appendBoth(p, [2000 + step]); // mask 4092 .. 4100
    expect(p.inPlace.length).toBe(4100);
    expect(cacheValues(p.inPlace)).toEqual(cacheValues(p.copy));
    // The switch is live in the fixture: the same row padded into a batch whose mask is 4101 wide takes
    // the long factors (why the step batcher keeps batches below 4096) and its logits change.
    const r = new GenerationSession(fx.model, fx.tokenizer, { kvCache: 'in_place', prefillChunkTokens: 1024 });
    await r.append(ids(4090, 5), [], undefined, { logits: false });
    const rows = [
      { cache: r.cache, embeds: await r.embed([2000]), loraFeeds: {} },
      { cache: p.inPlace.cache, embeds: await p.inPlace.embed([3000]), loraFeeds: {} },
    ];
    const [padded] = await runBatchedStep(fx.model, rows);
    expect(sameBits(padded, atPosition4090)).toBe(false);
  });
});
