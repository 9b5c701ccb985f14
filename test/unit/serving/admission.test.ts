import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { limitsSchema } from '../../../src/config/auth_limits_store_schema.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { AdmissionController, type SessionExpiry } from '../../../src/transport/admission.ts';

const limits = { maxSessions: 3, maxSessionsPerKey: 2, maxSessionDurationMs: 60_000, idleTimeoutMs: 10_000 };

async function metricValue(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  const found = metric.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}

describe('AdmissionController', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('without API keys (anonymous) only the global limit applies', () => {
    const ctl = new AdmissionController(limits);
    expect([1, 2, 3].map(() => ctl.admit('anonymous', () => {}).ok)).toEqual([true, true, true]);
    expect(ctl.admit('anonymous', () => {})).toMatchObject({ ok: false, reason: 'max_sessions' });
    expect(ctl.rateLimitsEvent('anonymous').rate_limits[0]).toMatchObject({ limit: 3, remaining: 0 });
  });

  it('defaults: 60 min duration', () => {
    const ctl = AdmissionController.fromConfig(limitsSchema.parse({}));
    expect(ctl.limits.maxSessionDurationMs).toBe(3_600_000);
  });

  it('limits sessions per key (429, E_KEY_CAPACITY) and globally (503, E_CAPACITY) with close 1013, and frees slots on release', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const ctl = new AdmissionController(limits, { metrics });
    const a1 = ctl.admit('a', () => {});
    const a2 = ctl.admit('a', () => {});
    expect(a1.ok && a2.ok).toBe(true);
    const a3 = ctl.admit('a', () => {});
    expect(a3).toMatchObject({
      ok: false,
      reason: 'max_sessions_per_key',
      code: 'E_KEY_CAPACITY',
      httpStatus: 429,
      closeCode: 1013,
    });
    expect(ctl.admit('b', () => {}).ok).toBe(true);
    const b2 = ctl.admit('b', () => {});
    expect(b2).toMatchObject({
      ok: false,
      reason: 'max_sessions',
      code: 'E_CAPACITY',
      httpStatus: 503,
      closeCode: 1013,
      retryAfterS: 5,
    });
    expect(ctl.activeSessions).toBe(3);
    expect(ctl.activeFor('a')).toBe(2);
    if (!a1.ok) throw new Error('unreachable');
    a1.ticket.release();
    a1.ticket.release(); // idempotent
    expect(ctl.activeSessions).toBe(2);
    expect(ctl.activeFor('a')).toBe(1);
    expect(ctl.admit('c', () => {}).ok).toBe(true);
    expect(await metricValue(metrics, 'earshot_sessions_active')).toBe(3);
    expect(await metricValue(metrics, 'earshot_sessions_total')).toBe(4);
    expect(await metricValue(metrics, 'earshot_sessions_rejected_total', { reason: 'max_sessions_per_key' })).toBe(1);
    expect(await metricValue(metrics, 'earshot_sessions_rejected_total', { reason: 'max_sessions' })).toBe(1);
  });

  it('refuses everything while draining (503, close 1001) and while the engine is saturated', () => {
    let saturated = true;
    const ctl = new AdmissionController(limits, { isEngineSaturated: () => saturated });
    expect(ctl.admit('a', () => {})).toMatchObject({
      ok: false,
      reason: 'engine_busy',
      code: 'E_ENGINE_BUSY',
      httpStatus: 503,
    });
    saturated = false;
    expect(ctl.check('a')).toBeNull();
    ctl.drain();
    expect(ctl.admit('a', () => {})).toMatchObject({
      ok: false,
      reason: 'draining',
      code: 'E_DRAINING',
      httpStatus: 503,
      closeCode: 1001,
    });
  });

  it('expires a session at its maximum duration even while active', () => {
    const ctl = new AdmissionController(limits);
    const expiries: SessionExpiry[] = [];
    const d = ctl.admit('a', (e) => expiries.push(e));
    if (!d.ok) throw new Error('refused');
    for (let t = 0; t < 59; t++) {
      vi.advanceTimersByTime(1000);
      d.ticket.touch();
    }
    expect(expiries).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(expiries).toEqual([
      {
        reason: 'max_duration',
        code: 'E_SESSION_EXPIRED',
        closeCode: 1008,
        message: 'The session reached its maximum duration of 1 min.',
      },
    ]);
    vi.advanceTimersByTime(120_000);
    expect(expiries).toHaveLength(1);
  });

  it('expires an idle session; activity pushes the idle deadline back', () => {
    const ctl = new AdmissionController(limits);
    const expiries: SessionExpiry[] = [];
    const d = ctl.admit('a', (e) => expiries.push(e));
    if (!d.ok) throw new Error('refused');
    vi.advanceTimersByTime(9_000);
    d.ticket.touch();
    vi.advanceTimersByTime(9_000);
    expect(expiries).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(expiries).toMatchObject([{ reason: 'idle_timeout', code: 'E_IDLE_TIMEOUT', closeCode: 1008 }]);
  });

  it('a released ticket never expires', () => {
    const ctl = new AdmissionController(limits);
    const onExpire = vi.fn();
    const d = ctl.admit('a', onExpire);
    if (!d.ok) throw new Error('refused');
    d.ticket.release();
    vi.advanceTimersByTime(120_000);
    expect(onExpire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rate_limits.updated reflects the capacity left to the key', () => {
    const ctl = new AdmissionController(limits);
    expect(ctl.rateLimitsEvent('a')).toEqual({
      type: 'rate_limits.updated',
      rate_limits: [{ name: 'requests', limit: 2, remaining: 2, reset_seconds: 0 }],
    });
    ctl.admit('a', () => {});
    expect(ctl.rateLimitsEvent('a').rate_limits[0].remaining).toBe(1);
    ctl.admit('b', () => {});
    ctl.admit('b', () => {});
    // The server is full: key a has room of its own but the global limit binds.
    expect(ctl.rateLimitsEvent('a').rate_limits[0].remaining).toBe(0);
    expect(ctl.rateLimitsEvent('a', { limitTokens: 4096, usedTokens: 1000 }).rate_limits[1]).toEqual({
      name: 'tokens',
      limit: 4096,
      remaining: 3096,
      reset_seconds: 0,
    });
  });

  it('records auth refusals in the same metric', async () => {
    const metrics = createMetrics({ collectProcessMetrics: false });
    const ctl = new AdmissionController(limits, { metrics });
    ctl.recordRejection('unauthorized');
    expect(await metricValue(metrics, 'earshot_sessions_rejected_total', { reason: 'unauthorized' })).toBe(1);
  });
});
