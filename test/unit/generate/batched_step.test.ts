import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { runBatchedStep } from '../../../src/engine/phi4mm/batched_step.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { EarshotError } from '../../../src/errors.ts';
import { maxAbsDiff } from '../../integration/engine_host/engine_fixture.ts';
import { loadTinyFixture, type LoadedFixture } from './fixture_model.ts';

// A batched one-token run over sessions of different lengths must give every row exactly what its own
// run gives (same logits, same cache afterwards): the proof that right padding plus per-row attention
// masks reach GroupQueryAttention as per-row lengths and positions in the real graph layout.

const fixtures: Partial<Record<'float32' | 'float16', LoadedFixture>> = {};
afterAll(async () => {
  for (const fx of Object.values(fixtures)) await fx?.model.dispose();
});

async function fixture(type: 'float32' | 'float16'): Promise<LoadedFixture> {
  // Adapter off: with it, the int4 LoRA MatMulNBits nodes take another kernel for several rows than for one,
  // and batched sums differ from single ones in the last bits (8e-7 seen); this checks the batching plumbing
  // bit for bit on float MatMul weights.
  fixtures[type] ??= await loadTinyFixture(type, false);
  return fixtures[type]!;
}

function promptIds(length: number, seed: number): number[] {
  return Array.from({ length }, (_, j) => 100 + ((j * 7 + seed * 13) % 5000));
}

async function sessionsOf(fx: LoadedFixture, lengths: number[]): Promise<GenerationSession[]> {
  return Promise.all(
    lengths.map(async (length, i) => {
      const g = new GenerationSession(fx.model, fx.tokenizer, { kvCache: 'copy' });
      await g.append(promptIds(length, i), [], undefined, { logits: false });
      return g;
    }),
  );
}

function cacheValues(g: GenerationSession): number[][] {
  const out: number[][] = [];
  for (let layer = 0; layer < 2; layer++) {
    const { key, value } = g.cache.layerTensors(layer);
    out.push(Array.from(key.data as Float32Array | Uint16Array), Array.from(value.data as Float32Array | Uint16Array));
  }
  return out;
}

describe.each(['float32', 'float16'] as const)('runBatchedStep (%s)', (type) => {
  let fx: LoadedFixture;
  beforeAll(async () => {
    fx = await fixture(type);
  });

  it('gives every row of a ragged batch its own logits and cache, step after step', async () => {
    const lengths = [5, 37, 1, 120, 64, 2];
    const alone = await sessionsOf(fx, lengths);
    const batched = await sessionsOf(fx, lengths);
    let buffersBefore: ArrayBufferLike[][] = [];
    for (let step = 0; step < 3; step++) {
      const token = (i: number) => 1000 + i * 3 + step;
      const expected: Float32Array[] = [];
      for (let i = 0; i < alone.length; i++) expected.push((await alone[i].append([token(i)]))!);
      const rows = await Promise.all(
        batched.map(async (g, i) => ({ cache: g.cache, embeds: await g.embed([token(i)]), loraFeeds: {} })),
      );
      const logits = await runBatchedStep(fx.model, rows);
      expect(logits).toHaveLength(lengths.length);
      for (let i = 0; i < lengths.length; i++) {
        expect(maxAbsDiff(logits[i], expected[i])).toBe(0);
        expect(batched[i].length).toBe(lengths[i] + step + 1);
        expect(cacheValues(batched[i])).toEqual(cacheValues(alone[i]));
      }
      // The first batched step gives each row's cache a buffer with headroom; later steps write into it.
      const buffers = batched.map((g) =>
        [0, 1].flatMap((layer) =>
          Object.values(g.cache.layerTensors(layer)).map(
            (t: ort.Tensor) => (t.data as Float32Array | Uint16Array).buffer,
          ),
        ),
      );
      if (step > 0)
        expect(buffers).toEqual(buffersBefore.map((row) => row.map((b) => expect.toSatisfy((x) => x === b))));
      buffersBefore = buffers;
    }
  });

  it('a batch of one is the plain run', async () => {
    const [alone] = await sessionsOf(fx, [9]);
    const [batched] = await sessionsOf(fx, [9]);
    const expected = (await alone.append([4242]))!;
    const [logits] = await runBatchedStep(fx.model, [
      { cache: batched.cache, embeds: await batched.embed([4242]), loraFeeds: {} },
    ]);
    expect(maxAbsDiff(logits, expected)).toBe(0);
    expect(cacheValues(batched)).toEqual(cacheValues(alone));
  });

  it('a malformed row fails the batch before the run and leaves every cache as it was', async () => {
    const sessions = await sessionsOf(fx, [3, 4]);
    const before = sessions.map(cacheValues);
    const good = await sessions[0].embed([77]);
    const twoTokens = await sessions[1].embed([77, 78]);
    await expect(
      runBatchedStep(fx.model, [
        { cache: sessions[0].cache, embeds: good, loraFeeds: {} },
        { cache: sessions[1].cache, embeds: twoTokens, loraFeeds: {} },
      ]),
    ).rejects.toSatisfy((e: unknown) => e instanceof EarshotError && e.code === 'E_INTERNAL');
    expect(sessions.map(cacheValues)).toEqual(before);
    expect(sessions.map((s) => s.length)).toEqual([3, 4]);
  });
});
