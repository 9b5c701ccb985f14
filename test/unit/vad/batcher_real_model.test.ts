// VadBatcher on the real Silero model: streams fed interleaved in shared batches give exactly what each
// stream gives alone (state isolation, batch = single).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SILERO_WINDOW_SAMPLES, SileroModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher, classifyWindowsOffline } from '../../../src/vad/vad_batcher.ts';
import { ESPEAK_SENTENCES, loadClip, whiteNoise } from '../../helpers/speech_fixtures.ts';

let model: SileroModel;
beforeAll(async () => {
  model = await SileroModel.load();
});
afterAll(async () => {
  await model.dispose();
});

const WINDOWS = 60;

function sources(): Float32Array[] {
  return [
    loadClip('librivox/0870'),
    loadClip('cards/005'),
    whiteNoise(WINDOWS * SILERO_WINDOW_SAMPLES, 0.01, 9),
    loadClip(`espeak:${ESPEAK_SENTENCES[2]}`),
    loadClip('librivox/0920'),
    new Float32Array(WINDOWS * SILERO_WINDOW_SAMPLES),
    loadClip('raw/goforward'),
    loadClip('cards/002'),
  ].map((s) => s.subarray(0, WINDOWS * SILERO_WINDOW_SAMPLES));
}

describe('VadBatcher with Silero', () => {
  it('8 interleaved streams in shared batches equal each stream run alone (within 1e-5)', async () => {
    const inputs = sources();
    const alone = await Promise.all(inputs.map((s) => classifyWindowsOffline(model, s)));
    const batcher = new VadBatcher(model, { maxBatchStreams: 64 });
    const streams = inputs.map(() => batcher.openStream());
    const batched = inputs.map(() => new Float32Array(WINDOWS));
    // Streams join late, pause and deliver in a different order every tick, so batch sizes and each stream's
    // row change from run to run (a fixed batch would hide a wrong state layout).
    const cursor = inputs.map(() => 0);
    const pending: Promise<void>[] = [];
    for (let tick = 0; cursor.some((c) => c < WINDOWS); tick++) {
      const order = inputs.map((_, i) => i).sort((x, y) => ((x * 5 + tick) % 8) - ((y * 5 + tick) % 8));
      const thisTick: Promise<void>[] = [];
      for (const i of order) {
        if (cursor[i] >= WINDOWS || tick < i * 2 || (tick + i) % ((i % 3) + 2) === 0) continue;
        const w = cursor[i]++;
        const window = inputs[i].subarray(w * SILERO_WINDOW_SAMPLES, (w + 1) * SILERO_WINDOW_SAMPLES);
        thisTick.push(streams[i].infer(window).then((p) => void (batched[i][w] = p)));
      }
      pending.push(...thisTick);
      await Promise.all(thisTick);
    }
    await Promise.all(pending);
    let maxDifference = 0;
    inputs.forEach((_, i) =>
      batched[i].forEach((p, w) => (maxDifference = Math.max(maxDifference, Math.abs(p - alone[i][w])))),
    );
    expect(maxDifference).toBeLessThan(1e-5);
    const stats = batcher.stats();
    expect(stats.windows).toBe(8 * WINDOWS);
    expect(stats.maxBatch).toBeGreaterThan(1);
    expect(stats.batches).toBeLessThan(8 * WINDOWS);
  });

  it('reset() makes a stream start over like a fresh one', async () => {
    const clip = loadClip('librivox/0880').subarray(0, 20 * SILERO_WINDOW_SAMPLES);
    const fresh = await classifyWindowsOffline(model, clip);
    const batcher = new VadBatcher(model, { maxBatchStreams: 4 });
    const stream = batcher.openStream();
    for (let w = 0; w < 10; w++)
      await stream.infer(loadClip('cards/001').subarray(w * SILERO_WINDOW_SAMPLES, (w + 1) * SILERO_WINDOW_SAMPLES));
    stream.reset();
    const again = await Promise.all(
      Array.from({ length: 20 }, (_, w) =>
        stream.infer(clip.subarray(w * SILERO_WINDOW_SAMPLES, (w + 1) * SILERO_WINDOW_SAMPLES)),
      ),
    );
    again.forEach((p, w) => expect(Math.abs(p - fresh[w])).toBeLessThan(1e-5));
    stream.close();
  });
});
