import { describe, expect, it } from 'vitest';
import { benchAdmission } from '../../src/bench/admission_bench.ts';
import { benchCapacity } from '../../src/bench/capacity_bench.ts';
import { benchEphemeralKeys } from '../../src/bench/ephemeral_keys_bench.ts';

// Smoke tests of `earshot bench server --admission` and `earshot bench capacity` at sizes a test can
// afford: the whole path runs (server with the tiny model, clients in their own process) and the figures
// add up. Nothing here asserts a speed.
describe('admission and capacity benchmarks', () => {
  it('bench server --admission: every arrival is admitted or refused with a code, admitted sessions are measured', async () => {
    const r = await benchAdmission({ clients: 3, seconds: 6, arriveOverS: 2 });
    expect(r.admitted + r.refused).toBe(3);
    // The first arrival finds the server idle.
    expect(r.admitted).toBeGreaterThanOrEqual(1);
    for (const key of Object.keys(r.refused_codes)) expect(key).toBe('503 E_OVERLOADED');
    expect(r.errors, JSON.stringify({ codes: r.error_codes, closed: r.closed_early })).toBe(0);
    expect(r.utterances).toBeGreaterThan(0);
    expect(r.lag_ms_p99).toBeGreaterThan(0);
    expect(r.limits).toEqual({
      max_vad_lag_ms: 300,
      max_event_loop_delay_ms: 250,
      max_engine_wait_ms: 2000,
      admission_max_utilization: 0.7,
      admission_slow_start_per_s: 5,
    });
    expect(r.load_avg_1m).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('bench capacity: the sweep doubles while the target holds and reports the ratio to realtime_streams', async () => {
    // A target every run meets: the sweep goes 1, 2 and stops at its maximum.
    const r = await benchCapacity({ targetLagMs: 600_000, seconds: 10, startClients: 1, maxClients: 2, resolution: 1 });
    expect(r.steps.map((s) => s.clients)).toEqual([1, 2]);
    expect(r.steps.every((s) => s.holds)).toBe(true);
    expect(r.sessions).toBe(2);
    expect(r.realtime_streams).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(2 / r.realtime_streams, 3);
  }, 300_000);

  it("bench ephemeral-keys: keys minted with the largest preset until the pool's byte bounds refuse them", async () => {
    // 500 requests over 2 API keys: each key's 16 MiB holds about 170 presets of 96 KiB, the rest get 429.
    const r = await benchEphemeralKeys({ keys: 500, apiKeys: 2 });
    expect(r.preset_bytes).toBeLessThanOrEqual(r.limits.max_ephemeral_preset_bytes);
    expect(r.preset_bytes).toBeGreaterThan(r.limits.max_ephemeral_preset_bytes - 64);
    expect(r.minted).toBe(2 * Math.floor(r.limits.max_ephemeral_bytes_per_key / (r.preset_bytes + 256)));
    expect(r.refused).toEqual({ '429 E_EPHEMERAL_KEY_QUOTA': 500 - r.minted });
    expect(r.accounted_mb).toBeLessThanOrEqual(32);
    expect(r.heap_mb_delta).toBeGreaterThan(0);
  }, 120_000);
});
