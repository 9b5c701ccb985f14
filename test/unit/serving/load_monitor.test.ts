import { describe, expect, it, vi } from 'vitest';
import { LoadMonitor } from '../../../src/observability/load_monitor.ts';
import { AdmissionController } from '../../../src/transport/admission.ts';

describe('LoadMonitor', () => {
  it('overloaded above the limit, back to normal only under half of it', () => {
    const changes: boolean[] = [];
    const m = new LoadMonitor({ maxEventLoopDelayMs: 200, onChange: (o) => changes.push(o) });
    m.update(150);
    expect(m.overloaded).toBe(false);
    m.update(201);
    expect(m.overloaded).toBe(true);
    m.update(120); // under the limit but not under half: still overloaded
    expect(m.overloaded).toBe(true);
    m.update(99);
    expect(m.overloaded).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(m.delayMs).toBe(99);
  });

  it('samples on its interval; a limit of 0 never starts', async () => {
    // Fake timers: the interval is the behaviour under test, so time moves only when the test says.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const samples = [500, 500, 10];
      const m = new LoadMonitor({
        maxEventLoopDelayMs: 100,
        intervalMs: 5,
        sampleDelayMs: () => samples.shift() ?? 10,
      }).start();
      await vi.advanceTimersByTimeAsync(4);
      expect(m.overloaded).toBe(false); // no interval ended yet
      await vi.advanceTimersByTimeAsync(1);
      expect(m.overloaded).toBe(true);
      await vi.advanceTimersByTimeAsync(5);
      expect(m.overloaded).toBe(true);
      await vi.advanceTimersByTimeAsync(5);
      expect(m.overloaded).toBe(false);
      expect(samples).toEqual([]);
      m.stop();
      expect(vi.getTimerCount()).toBe(0);
      const off = new LoadMonitor({ maxEventLoopDelayMs: 0, intervalMs: 1, sampleDelayMs: () => 1e6 }).start();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10);
      expect(off.overloaded).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('admission refuses new sessions with 503 E_OVERLOADED while overloaded', () => {
    let message: string | null = 'behind real time';
    const ctl = new AdmissionController(
      { maxSessions: 10, maxSessionsPerKey: 10, maxSessionDurationMs: 60_000, idleTimeoutMs: 60_000 },
      { overload: () => message },
    );
    expect(ctl.admit('a', () => {})).toMatchObject({
      ok: false,
      reason: 'overloaded',
      code: 'E_OVERLOADED',
      httpStatus: 503,
      closeCode: 1013,
      message: 'behind real time',
    });
    message = null;
    expect(ctl.admit('a', () => {})).toMatchObject({ ok: true });
  });
});
