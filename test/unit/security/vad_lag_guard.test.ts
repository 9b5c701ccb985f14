import { describe, expect, it } from 'vitest';
import { AdmissionController } from '../../../src/transport/admission.ts';
import { LoadMonitor } from '../../../src/observability/load_monitor.ts';
import { getSharedSileroModel, SILERO_WINDOW_SAMPLES, type VadModel } from '../../../src/vad/silero_model.ts';
import { VadBatcher } from '../../../src/vad/vad_batcher.ts';

// Issue 16, item 9: the overload guard watched only the event loop, which stays fast while the shared VAD
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

describe('VAD lag guard', () => {
  it('measures how long windows wait for a VAD that is behind real time, and resets once taken', async () => {
    const batcher = new VadBatcher(await busyModel(120), { maxBatchStreams: 4, maxBatchesInFlight: 1 });
    const feeding = feed(batcher, 8, 1200);
    await new Promise((r) => setTimeout(r, 900));
    const lagMs = batcher.takeMaxWaitMs();
    await feeding;
    // 8 streams x 1 window per 32 ms, batches of 4 taking >= 120 ms each: the backlog grows without end.
    expect(lagMs).toBeGreaterThan(300);
    batcher.takeMaxWaitMs();
    expect(batcher.takeMaxWaitMs()).toBe(0); // nothing waiting and no batch since: reset
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
