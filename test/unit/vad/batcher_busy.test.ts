// VadBatcher.takeBusyMs: the VAD threads' busy time that the capacity estimate takes as their utilization.
// A running batch counts up to the moment of the call, the rest of it at the next; idle time counts nothing.
// The clock (performance.now) is injected: nothing here depends on how fast the machine is.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SILERO_WINDOW_SAMPLES, type SileroState, type VadModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';

/** Batches finish when the test releases them. */
class GatedModel implements VadModel {
  private readonly gates: (() => void)[] = [];
  createState(): SileroState {
    return { h: new Float32Array(128), c: new Float32Array(128) };
  }
  async runBatch(windows: Float32Array[]): Promise<Float32Array> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return new Float32Array(windows.length);
  }
  releaseOne(): void {
    this.gates.shift()?.();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('VadBatcher busy time', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts running batches up to now, finished ones once, and idle time not at all', async () => {
    let nowMs = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
    const model = new GatedModel();
    const batcher = new VadBatcher(model, { maxBatchStreams: 8, maxBatchesInFlight: 2 });
    expect(batcher.batchSlots).toBe(2);
    const stream = batcher.openStream();
    const first = stream.infer(new Float32Array(SILERO_WINDOW_SAMPLES));
    await turn(); // the batch starts at 1000
    nowMs = 1030;
    expect(batcher.takeBusyMs()).toBe(30);
    nowMs = 1050;
    model.releaseOne();
    await first;
    await turn();
    // The rest of the batch (1030 -> 1050), counted once.
    expect(batcher.takeBusyMs()).toBe(20);
    nowMs = 2000;
    expect(batcher.takeBusyMs()).toBe(0);
    stream.close();
  });
});
