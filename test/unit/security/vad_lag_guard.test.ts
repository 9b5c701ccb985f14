import { describe, expect, it } from 'vitest';
import { AdmissionController } from '../../../src/transport/admission.ts';
import { LoadMonitor } from '../../../src/observability/load_monitor.ts';
import { getSharedSileroModel, SILERO_WINDOW_SAMPLES, type VadModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';

// The overload guard watched only the event loop, which stays fast while the shared VAD
// thread falls behind. The batcher now reports how long windows wait for it, and admission refuses new
// sessions (and tells admitted ones nothing remains) while that wait is over limits.max_vad_lag_ms.

/** The real Silero model on a thread that is busy `busyMs` before every batch (a saturated VAD thread). */
async function busyModel(busyMs: number): Promise<VadModel> {
  const model = await getSharedSileroModel();
  return {
    createState: () => model.createState(),
    runBatch: async (windows, states) => {
      await new Promise((r) => setTimeout(r, busyMs));
      return model.runBatch(windows, states);
    },
  };
}

/** Feeds `streams` streams one window each every 32 ms (real time) for `ms`. */
async function feed(batcher: VadBatcher, streams: number, ms: number): Promise<void> {
  const open = Array.from({ length: streams }, () => batcher.openStream());
  const window = new Float32Array(SILERO_WINDOW_SAMPLES);
  const pending: Promise<number>[] = [];
  for (let t = 0; t < ms; t += 32) {
    for (const s of open) pending.push(s.infer(window));
    await new Promise((r) => setTimeout(r, 32));
  }
  for (const s of open) s.close();
  await Promise.allSettled(pending);
}

/**
 * Submits `seconds` of audio to one stream as fast as it can (a client uploading faster than real time):
 * one second of audio per macrotask, as one message of a socket would arrive.
 */
async function upload(batcher: VadBatcher, seconds: number): Promise<number[]> {
  const stream = batcher.openStream();
  const window = new Float32Array(SILERO_WINDOW_SAMPLES).fill(0.01);
  const windowsPerSecond = Math.round(16_000 / SILERO_WINDOW_SAMPLES);
  const results: Promise<number>[] = [];
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < windowsPerSecond; i++) results.push(stream.infer(window));
    await new Promise((r) => setImmediate(r));
  }
  return Promise.all(results).finally(() => stream.close());
}

describe("VAD lag on each stream's own clock", () => {
  it('a client uploading faster than real time is not lag while the VAD keeps ahead of its audio', async () => {
    const batcher = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: 64, maxBatchesInFlight: 1 });
    const vad = new LoadMonitor({ maxEventLoopDelayMs: 300, sampleDelayMs: () => 0 });
    const startedMs = performance.now();
    let maxLagMs = 0;
    const sampler = setInterval(() => (maxLagMs = Math.max(maxLagMs, batcher.takeMaxLagMs())), 50);
    // 3 min of audio at once: its last window waits as long as the whole upload takes to process (the old
    // wall-clock measure, past the limit), but the stream's own clock puts that window 3 min after the first.
    await upload(batcher, 180);
    const lastWindowWaitMs = performance.now() - startedMs;
    clearInterval(sampler);
    maxLagMs = Math.max(maxLagMs, batcher.takeMaxLagMs());
    vad.update(maxLagMs);
    expect(lastWindowWaitMs).toBeGreaterThan(300); // what the wall-clock guard saw as lag
    expect(lastWindowWaitMs).toBeLessThan(90_000); // faster than real time, so nothing was late
    expect(maxLagMs).toBeLessThan(300);
    expect(vad.overloaded).toBe(false);
  }, 60_000);

  it('the same upload on a VAD slower than real time is lag, and trips the guard', async () => {
    // 60 ms per batch for 32 ms of audio: each window starts 28 ms later on its stream's clock than the last.
    const batcher = new VadBatcher(await busyModel(60), { maxBatchStreams: 64, maxBatchesInFlight: 1 });
    const vad = new LoadMonitor({ maxEventLoopDelayMs: 150, sampleDelayMs: () => 0 });
    const uploading = upload(batcher, 3);
    await new Promise((r) => setTimeout(r, 1500));
    vad.update(batcher.takeMaxLagMs());
    await uploading;
    expect(vad.delayMs).toBeGreaterThan(300);
    expect(vad.overloaded).toBe(true);
  }, 60_000);
});

describe('VAD lag guard', () => {
  it('measures how long windows wait for a VAD that is behind real time, and resets once taken', async () => {
    const batcher = new VadBatcher(await busyModel(120), { maxBatchStreams: 4, maxBatchesInFlight: 1 });
    const feeding = feed(batcher, 8, 1200);
    await new Promise((r) => setTimeout(r, 900));
    const lagMs = batcher.takeMaxLagMs();
    await feeding;
    await new Promise((r) => setTimeout(r, 400)); // the batch still running when the streams closed ends
    // 8 streams x 1 window per 32 ms, batches of 4 taking >= 120 ms each: the backlog grows without end.
    expect(lagMs).toBeGreaterThan(300);
    batcher.takeMaxLagMs();
    expect(batcher.takeMaxLagMs()).toBe(0); // nothing waiting and no batch since: reset
  });

  it('refuses new sessions with E_OVERLOADED while the VAD wait is over its limit, and reports nothing remaining', () => {
    const vad = new LoadMonitor({ maxEventLoopDelayMs: 300, sampleDelayMs: () => 0 });
    const admission = new AdmissionController(
      { maxSessions: 10, maxSessionsPerKey: 10, maxSessionDurationMs: 60_000, idleTimeoutMs: 60_000 },
      { overload: () => (vad.overloaded ? 'behind' : null) },
    );
    expect(admission.check('key_a')).toBeNull();
    vad.update(450);
    expect(admission.check('key_a')).toMatchObject({ code: 'E_OVERLOADED', httpStatus: 503 });
    expect(admission.rateLimitsEvent('key_a').rate_limits[0].remaining).toBe(0);
    vad.update(200); // hysteresis: still over half the limit
    expect(admission.check('key_a')).not.toBeNull();
    vad.update(100);
    expect(admission.check('key_a')).toBeNull();
    expect(admission.rateLimitsEvent('key_a').rate_limits[0].remaining).toBe(10);
  });
});
