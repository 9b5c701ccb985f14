import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { SILERO_WINDOW_SAMPLES, SileroModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';
import { WorkerVadModel, WorkerVadPool } from '../../../src/vad/worker_vad_model.ts';
import { LIBRIVOX_CLIPS, loadClip } from '../../helpers/speech_fixtures.ts';

// Silero in the worker thread: the same probabilities and states as in the main thread, and a dead
// worker fails only the batches it held; the next batch runs on a new one.

let local: SileroModel;
let remote: WorkerVadModel;
let speech: Float32Array;

beforeAll(async () => {
  local = await SileroModel.load();
  remote = await WorkerVadModel.start();
  speech = loadClip(LIBRIVOX_CLIPS[0]);
}, 60_000);
afterAll(async () => {
  await local?.dispose();
  await remote?.dispose();
});

function windowAt(index: number): Float32Array {
  return speech.slice(index * SILERO_WINDOW_SAMPLES, (index + 1) * SILERO_WINDOW_SAMPLES);
}

describe('WorkerVadModel', () => {
  it('gives exactly the in-thread probabilities and states, batch after batch', async () => {
    const localStates = [local.createState(), local.createState(), local.createState()];
    const remoteStates = [remote.createState(), remote.createState(), remote.createState()];
    for (let step = 0; step < 20; step++) {
      const windows = [windowAt(step), windowAt(step + 7), windowAt(step + 31)];
      const a = await local.runBatch(
        windows.map((w) => w.slice()),
        localStates,
      );
      const b = await remote.runBatch(
        windows.map((w) => w.slice()),
        remoteStates,
      );
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(remoteStates.map((s) => Array.from(s.h))).toEqual(localStates.map((s) => Array.from(s.h)));
    }
  });

  it('a killed worker fails its batch with E_VAD_MODEL, leaves the states alone, and the next batch works', async () => {
    const state = remote.createState();
    await remote.runBatch([windowAt(3)], [state]);
    const before = Array.from(state.h);
    const inFlight = remote.runBatch([windowAt(4)], [state]);
    await remote.killWorkerForTest();
    await expect(inFlight).rejects.toSatisfy((e: unknown) => e instanceof EarshotError && e.code === 'E_VAD_MODEL');
    expect(Array.from(state.h)).toEqual(before);
    const again = await remote.runBatch([windowAt(4)], [state]);
    expect(again).toHaveLength(1);
    expect(again[0]).toBeGreaterThanOrEqual(0);
  });

  it('a model that cannot load is E_VAD_MODEL at start', async () => {
    await expect(WorkerVadModel.start('/nonexistent/silero.onnx')).rejects.toSatisfy(
      (e: unknown) => e instanceof EarshotError && e.code === 'E_VAD_MODEL',
    );
  });
});

describe('WorkerVadPool', () => {
  it('two workers under a batcher with two batches in flight: every stream gets exactly its in-thread probabilities', async () => {
    const pool = await WorkerVadPool.start(2);
    try {
      expect(pool.size).toBe(2);
      const batcher = new VadBatcher(pool, { maxBatchStreams: 2, maxBatchesInFlight: 2 });
      const offsets = [0, 7, 31, 50, 64, 90];
      const streams = offsets.map(() => batcher.openStream());
      const results: Promise<number>[][] = offsets.map(() => []);
      for (let step = 0; step < 12; step++)
        offsets.forEach((offset, i) => results[i].push(streams[i].infer(windowAt(offset + step))));
      const got = await Promise.all(results.map((r) => Promise.all(r)));
      for (const [i, offset] of offsets.entries()) {
        const state = local.createState();
        const want: number[] = [];
        for (let step = 0; step < 12; step++) want.push((await local.runBatch([windowAt(offset + step)], [state]))[0]);
        // onnxruntime's kernels round differently for different batch sizes (within 1e-7 here): a batch of
        // two is compared with single runs, so equal to float32 rounding rather than bit for bit.
        got[i].forEach((p, step) => expect(Math.abs(p - want[step]), `stream ${i} step ${step}`).toBeLessThan(1e-5));
      }
      expect(batcher.stats().batches).toBeGreaterThanOrEqual(36); // 6 streams, 2 per batch, 12 windows each
    } finally {
      await pool.dispose();
    }
  });

  it('a killed worker fails only its own batch; the pool keeps serving', async () => {
    const pool = await WorkerVadPool.start(2);
    try {
      const [a, b] = [pool.createState(), pool.createState()];
      const first = pool.runBatch([windowAt(1)], [a]); // worker 0 (both idle: the first)
      const second = pool.runBatch([windowAt(2)], [b]); // worker 1 (worker 0 is busy)
      await pool.killWorkerForTest(1);
      await expect(first).resolves.toHaveLength(1);
      await expect(second).rejects.toSatisfy((e: unknown) => e instanceof EarshotError && e.code === 'E_VAD_MODEL');
      const again = await Promise.all([pool.runBatch([windowAt(3)], [a]), pool.runBatch([windowAt(2)], [b])]);
      expect(again.map((r) => r.length)).toEqual([1, 1]);
    } finally {
      await pool.dispose();
    }
  });
});
