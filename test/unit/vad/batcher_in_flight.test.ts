// VadBatcher with more than one batch in flight (one per VAD worker thread): batches overlap, yet no stream
// ever has two windows in flight and every stream's windows see its state in order.
import { describe, expect, it } from 'vitest';
import { SILERO_WINDOW_SAMPLES, type SileroState, type VadModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';

/** Probability = window tag + 100 x the stream's step; batches finish when the test releases them. */
class GatedModel implements VadModel {
  readonly batches: number[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly gates: (() => void)[] = [];

  createState(): SileroState {
    return { h: new Float32Array(128), c: new Float32Array(128) };
  }

  async runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    this.batches.push(windows.map((w) => w[0]));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // States are read when the batch starts (as packBatch does) and written when it ends.
    const steps = states.map((s) => s.h[0]);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.inFlight--;
    states.forEach((s, b) => (s.h[0] = steps[b] + 1));
    return Float32Array.from(windows, (w, b) => w[0] + 100 * steps[b]);
  }

  /** Finishes the oldest running batch. */
  releaseOne(): void {
    this.gates.shift()?.();
  }

  get waiting(): number {
    return this.gates.length;
  }
}

function tagged(tag: number): Float32Array {
  const window = new Float32Array(SILERO_WINDOW_SAMPLES);
  window[0] = tag;
  return window;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function releaseAll(model: GatedModel, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    model.releaseOne();
    await turn();
  }
}

describe('VadBatcher with several batches in flight', () => {
  it('past the stream cap, the next batch starts while the first runs', async () => {
    const model = new GatedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 2, maxBatchesInFlight: 3 });
    const streams = Array.from({ length: 5 }, () => batcher.openStream());
    const results = Promise.all(streams.map((s, i) => s.infer(tagged(i))));
    await turn();
    expect(model.waiting).toBe(3); // [0,1] [2,3] [4] at once
    expect(model.batches).toEqual([[0, 1], [2, 3], [4]]);
    let finished = false;
    void results.then(() => (finished = true));
    await releaseAll(model, () => finished);
    expect(await results).toEqual([0, 1, 2, 3, 4]);
  });

  it('a stream whose window is in flight waits for it: its windows run in order, each after the last', async () => {
    const model = new GatedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 8, maxBatchesInFlight: 2 });
    const [a, b] = [batcher.openStream(), batcher.openStream()];
    const first = a.infer(tagged(1));
    await turn(); // batch 1: [a1] in flight
    const second = [a.infer(tagged(2)), b.infer(tagged(10))];
    await turn(); // batch 2 may start, but only with b: a is in flight
    expect(model.batches).toEqual([[1], [10]]);
    let finished = false;
    const all = Promise.all([first, ...second]);
    void all.then(() => (finished = true));
    await releaseAll(model, () => finished);
    // a's second window saw a's state after its first (step 1); b's first saw step 0.
    expect(await all).toEqual([1, 102, 10]);
    expect(model.batches).toEqual([[1], [10], [2]]);
  });

  it('many streams, windows arriving while batches run: never more than maxBatchesInFlight, every stream in order', async () => {
    for (const maxBatchesInFlight of [1, 2, 3]) {
      const model = new GatedModel();
      const batcher = new VadBatcher(model, { maxBatchStreams: 4, maxBatchesInFlight });
      const streams = Array.from({ length: 10 }, () => batcher.openStream());
      const pending: { stream: number; window: number; result: Promise<number> }[] = [];
      for (let round = 0; round < 6; round++) {
        streams.forEach((s, i) => pending.push({ stream: i, window: round, result: s.infer(tagged(i)) }));
        await turn();
        model.releaseOne();
        await turn();
      }
      let finished = false;
      const all = Promise.all(pending.map((p) => p.result));
      void all.then(() => (finished = true));
      await releaseAll(model, () => finished);
      const results = await all;
      // The n-th window of stream i saw step n: states advanced one window at a time, in order.
      pending.forEach((p, k) =>
        expect(results[k], `${maxBatchesInFlight}: stream ${p.stream} window ${p.window}`).toBe(
          p.stream + 100 * p.window,
        ),
      );
      expect(model.maxInFlight).toBeLessThanOrEqual(maxBatchesInFlight);
      if (maxBatchesInFlight > 1) expect(model.maxInFlight).toBeGreaterThan(1);
      // No batch holds one stream twice.
      for (const batch of model.batches) expect(new Set(batch).size).toBe(batch.length);
    }
  });
});
