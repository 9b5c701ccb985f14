// VadBatcher with a scripted model: which windows share a run, ordering, reset, close and failure handling.
import { describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { SILERO_WINDOW_SAMPLES, type SileroState, type VadModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';

/**
 * A model whose "probability" is window[0] + 100 x the stream's step counter (integers: exact in float32), so results reveal both which
 * window ran and how many windows that stream's state has seen. Records each batch's window tags.
 */
class ScriptedModel implements VadModel {
  readonly batches: number[][] = [];
  failNext = 0;

  createState(): SileroState {
    return { h: new Float32Array(128), c: new Float32Array(128) };
  }

  async runBatch(windows: Float32Array[], states: SileroState[]): Promise<Float32Array> {
    this.batches.push(windows.map((w) => w[0]));
    await new Promise((resolve) => setImmediate(resolve)); // like ORT: completes in a later turn
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('scripted failure');
    }
    return Float32Array.from(windows, (w, b) => {
      const step = states[b].h[0]++;
      return w[0] + 100 * step;
    });
  }
}

function tagged(tag: number): Float32Array {
  const window = new Float32Array(SILERO_WINDOW_SAMPLES);
  window[0] = tag;
  return window;
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('VadBatcher', () => {
  it('runs the head of every stream that received audio in one macrotask as one batch', async () => {
    const model = new ScriptedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 64 });
    const [a, b, c] = [batcher.openStream(), batcher.openStream(), batcher.openStream()];
    const results = await Promise.all([
      a.infer(tagged(10)),
      a.infer(tagged(11)),
      b.infer(tagged(20)),
      c.infer(tagged(30)),
      b.infer(tagged(21)),
    ]);
    expect(model.batches).toEqual([
      [10, 20, 30],
      [11, 21],
    ]);
    // Per-stream order: the second window of a stream sees its state after the first.
    expect(results).toEqual([10, 111, 20, 30, 121]);
    expect(batcher.stats()).toEqual({ batches: 2, windows: 5, maxBatch: 3 });
  });

  it('never puts more than maxBatchStreams streams in a run and serves the others next, in arrival order', async () => {
    const model = new ScriptedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 2 });
    const streams = [0, 1, 2, 3, 4].map(() => batcher.openStream());
    const pending = streams.flatMap((s, i) => [s.infer(tagged(i * 10)), s.infer(tagged(i * 10 + 1))]);
    await Promise.all(pending);
    for (const batch of model.batches) expect(batch.length).toBeLessThanOrEqual(2);
    expect(model.batches[0]).toEqual([0, 10]);
    expect(model.batches[1]).toEqual([20, 30]);
    // Every stream's windows ran in order, never two of one stream in the same batch.
    for (const batch of model.batches) expect(new Set(batch.map((t) => Math.floor(t / 10))).size).toBe(batch.length);
    expect(batcher.stats().windows).toBe(10);
  });

  it('reset() zeroes the state for windows submitted after it, not before', async () => {
    const model = new ScriptedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 8 });
    const stream = batcher.openStream();
    const first = stream.infer(tagged(1));
    const second = stream.infer(tagged(2));
    stream.reset();
    const third = stream.infer(tagged(3));
    expect(await Promise.all([first, second, third])).toEqual([1, 102, 3]);
    // reset while idle takes effect at once
    expect(await stream.infer(tagged(4))).toBe(104);
    stream.reset();
    expect(await stream.infer(tagged(5))).toBe(5);
  });

  it('close() rejects queued and in-flight calls with E_ABORTED and leaves other streams working', async () => {
    const model = new ScriptedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 8 });
    const closing = batcher.openStream();
    const other = batcher.openStream();
    const calls = [closing.infer(tagged(1)), closing.infer(tagged(2)), other.infer(tagged(7))].map(settle);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is now in flight
    closing.close();
    const [a, b, c] = await Promise.all(calls);
    for (const r of [a, b]) {
      expect(r.ok).toBe(false);
      expect((r as { error: EarshotError }).error.code).toBe('E_ABORTED');
    }
    expect(c).toEqual({ ok: true, value: 7 });
    await expect(closing.infer(tagged(3))).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(await other.infer(tagged(8))).toBe(108);
    // The closed stream's second window never ran.
    expect(model.batches.flat()).not.toContain(2);
  });

  it('a model failure rejects that batch with E_VAD_MODEL and later calls still work', async () => {
    const model = new ScriptedModel();
    model.failNext = 1;
    const batcher = new VadBatcher(model, { maxBatchStreams: 8 });
    const [a, b] = [batcher.openStream(), batcher.openStream()];
    const failed = await Promise.all([a.infer(tagged(1)), b.infer(tagged(2))].map(settle));
    for (const r of failed) {
      expect(r.ok).toBe(false);
      expect((r as { error: EarshotError }).error).toBeInstanceOf(EarshotError);
      expect((r as { error: EarshotError }).error.code).toBe('E_VAD_MODEL');
    }
    // The failed run did not advance the states.
    expect(await Promise.all([a.infer(tagged(3)), b.infer(tagged(4))])).toEqual([3, 4]);
  });

  it('rejects a window of the wrong length at once without failing other streams', async () => {
    const model = new ScriptedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 8 });
    const [a, b] = [batcher.openStream(), batcher.openStream()];
    const good = b.infer(tagged(5));
    await expect(a.infer(new Float32Array(100))).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(await good).toBe(5);
  });

  it('rejects a non-positive maxBatchStreams', () => {
    expect(() => new VadBatcher(new ScriptedModel(), { maxBatchStreams: 0 })).toThrow(EarshotError);
  });
});
