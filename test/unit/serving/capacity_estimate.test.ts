import { describe, expect, it } from 'vitest';
import { limitsSchema } from '../../../src/config/auth_limits_store_schema.ts';
import { CapacityEstimate, PEAK_WINDOW_SAMPLES } from '../../../src/observability/capacity_estimate.ts';
import { AdmissionController } from '../../../src/transport/admission.ts';

// Admission by predicted capacity, with injected utilization samples and an injected clock: the estimate
// refuses before a burst of sessions can overshoot, not once lag has shown.
const limits = { maxSessions: 1000, maxSessionsPerKey: 1000, maxSessionDurationMs: 3_600_000, idleTimeoutMs: 600_000 };

function setup(opts: { maxUtilization?: number; slowStartPerS?: number; minSessions?: number } = {}) {
  let nowMs = 0;
  const estimate = new CapacityEstimate({
    maxUtilization: opts.maxUtilization ?? 0.7,
    slowStartPerS: opts.slowStartPerS ?? 10,
    minSessions: opts.minSessions ?? 0,
    settleMs: 2000,
    costAfterMs: 1000,
    nowMs: () => nowMs,
  });
  const admission = new AdmissionController(limits, { capacity: estimate, nowMs: () => nowMs });
  const admitted: (() => void)[] = [];
  /** Admits until refused (or `max`), returns how many were admitted and the refusal. */
  const admitUntilRefused = (max = 1000) => {
    let n = 0;
    for (; n < max; n++) {
      const d = admission.admit('anonymous', () => {});
      if (!d.ok) return { n, refusal: d };
      admitted.push(() => d.ticket.release());
    }
    return { n, refusal: null };
  };
  return {
    estimate,
    admission,
    admitted,
    admitUntilRefused,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('CapacityEstimate', () => {
  it('slow start: before any cost is known, at most admission_slow_start_per_s sessions a second, then 503 E_OVERLOADED', () => {
    const t = setup({ slowStartPerS: 10 });
    const first = t.admitUntilRefused();
    expect(first.n).toBe(10);
    expect(first.refusal).toMatchObject({
      reason: 'overloaded',
      code: 'E_OVERLOADED',
      httpStatus: 503,
      closeCode: 1013,
      retryAfterS: 5,
    });
    expect(first.refusal?.message).toMatch(/at most 10 sessions a second/);
    // While refusing, admitted sessions are told nothing remains.
    expect(t.admission.rateLimitsEvent('anonymous').rate_limits[0].remaining).toBe(0);
    // A second later (still no settled session, so still no cost): ten more.
    t.advance(1001);
    expect(t.admitUntilRefused().n).toBe(10);
  });

  it('sessions that already ended do not count as starting (connect/disconnect cycles are never slowed)', () => {
    const t = setup({ slowStartPerS: 3 });
    for (let i = 0; i < 50; i++) {
      const d = t.admission.admit('anonymous', () => {});
      expect(d.ok).toBe(true);
      if (d.ok) d.ticket.release();
    }
  });

  it('predicts from the per-session cost: refuses once utilization + (starting + 1) x cost passes the bound', () => {
    const t = setup({ maxUtilization: 0.7, slowStartPerS: 10 });
    expect(t.admitUntilRefused().n).toBe(10);
    t.advance(2500); // the ten have settled
    // 10 sessions keep the event loop 20 % busy: 2 % each. The VAD thread is less loaded.
    t.estimate.update({ 'event loop': 0.2, 'VAD thread': 0.1 }, 10);
    expect(t.estimate.costPerSession('event loop')).toBeCloseTo(0.02, 6);
    // Room for (0.7 - 0.2) / 0.02 = 25 more, admitted at once although none of them shows in a sample yet.
    const burst = t.admitUntilRefused();
    expect(burst.n).toBe(25);
    expect(burst.refusal).toMatchObject({ code: 'E_OVERLOADED', httpStatus: 503 });
    expect(burst.refusal?.message).toMatch(/event loop 20 % busy at its recent peak, 25 sessions starting/);
    // Once they have settled and the samples show their load, the estimate follows the measurement.
    t.advance(2500);
    t.estimate.update({ 'event loop': 0.69, 'VAD thread': 0.3 }, 35);
    expect(t.estimate.refusal(t.admission.activeSessions)).not.toBeNull();
    // Sessions leave: utilization falls; room again once the busy sample has left the peak window.
    for (const release of t.admitted.splice(0, 20)) release();
    for (let i = 1; i <= PEAK_WINDOW_SAMPLES; i++) {
      t.advance(1000);
      t.estimate.update({ 'event loop': 0.3, 'VAD thread': 0.15 }, 15);
      expect(t.estimate.refusal(t.admission.activeSessions) === null).toBe(i === PEAK_WINDOW_SAMPLES);
    }
    expect(t.admitUntilRefused().n).toBeGreaterThan(0);
  });

  it('quiet intervals among busy ones do not open the door: the peak of the last samples counts', () => {
    const t = setup({ maxUtilization: 0.7 });
    t.admitUntilRefused(10);
    t.advance(2500);
    t.estimate.update({ 'event loop': 0.68 }, 10);
    for (let i = 1; i < PEAK_WINDOW_SAMPLES; i++) {
      t.estimate.update({ 'event loop': 0.2 }, 10);
      expect(t.admitUntilRefused().n).toBe(0);
    }
    // The busy sample has left the window: room at the quiet level.
    t.estimate.update({ 'event loop': 0.2 }, 10);
    expect(t.admitUntilRefused().n).toBeGreaterThan(5);
  });

  it('sessions younger than one interval are left out of the cost, and count as starting', () => {
    const t = setup({ maxUtilization: 0.72 });
    t.admitUntilRefused(4);
    t.advance(2500);
    t.admitUntilRefused(4);
    t.advance(500);
    // 8 active, 4 of them admitted 500 ms ago: the cost divides by the 4 older ones.
    t.estimate.update({ 'event loop': 0.2 }, 8);
    expect(t.estimate.costPerSession('event loop')).toBeCloseTo(0.05, 6);
    expect(t.estimate.startingSessions).toBe(4);
    // 0.2 + (starting + 1) x 0.05 <= 0.72 up to 9 starting: 6 more beside the 4.
    expect(t.admitUntilRefused().n).toBe(6);
  });

  it('the most loaded resource decides', () => {
    const t = setup({ maxUtilization: 0.8 });
    t.admitUntilRefused(4);
    t.advance(2500);
    t.estimate.update({ 'event loop': 0.1, 'VAD thread': 0.6 }, 4);
    // VAD: 0.15 per session, 0.6 + 0.15 = 0.75 fits one, a second (0.9) does not.
    const r = t.admitUntilRefused();
    expect(r.n).toBe(1);
    expect(r.refusal?.message).toMatch(/VAD thread 60 % busy at its recent peak/);
  });

  it('the per-session cost is smoothed; samples without a settled session keep it', () => {
    const t = setup();
    t.admitUntilRefused(5);
    t.advance(2500);
    t.estimate.update({ 'event loop': 0.5 }, 5); // 0.1 each
    t.estimate.update({ 'event loop': 0.1 }, 5); // 0.02 each: halfway
    expect(t.estimate.costPerSession('event loop')).toBeCloseTo(0.06, 6);
    t.estimate.update({ 'event loop': 0.05 }, 0);
    expect(t.estimate.costPerSession('event loop')).toBeCloseTo(0.06, 6);
    // Out-of-range samples are clamped to 0..1.
    t.estimate.update({ 'event loop': Number.NaN, 'VAD thread': 7 }, 5);
    expect(t.estimate.costPerSession('VAD thread')).toBeCloseTo(0.2, 6);
  });

  it('below admission_min_sessions nothing is refused, whatever the samples say', () => {
    const t = setup({ minSessions: 8, slowStartPerS: 1 });
    // Slow start would allow one a second; the floor lets the first eight in at once.
    const first = t.admitUntilRefused();
    expect(first.n).toBe(8);
    expect(first.refusal?.message).toMatch(/at most 1 sessions a second/);
    // One client's upload burst makes the event loop look full with two sessions: still admitted below 8.
    for (const release of t.admitted.splice(0, 6)) release();
    t.advance(2500);
    t.estimate.update({ 'event loop': 0.95 }, 2);
    expect(t.admitUntilRefused().n).toBe(6);
  });

  it('admission_max_utilization 0 turns prediction off', () => {
    const t = setup({ maxUtilization: 0, slowStartPerS: 1 });
    expect(t.admitUntilRefused(100).n).toBe(100);
  });

  it('the bounds are named in the limits schema with their defaults, and validated', () => {
    const d = limitsSchema.parse({});
    expect(d.admission_max_utilization).toBe(0.7);
    expect(d.admission_slow_start_per_s).toBe(5);
    expect(d.admission_settle_ms).toBe(5000);
    expect(d.admission_min_sessions).toBe(8);
    expect(() => limitsSchema.parse({ admission_max_utilization: 1.5 })).toThrow();
    expect(() => limitsSchema.parse({ admission_slow_start_per_s: 0 })).toThrow();
  });
});
