import { describe, expect, it } from 'vitest';
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
    const samples = [500, 500, 10];
    const m = new LoadMonitor({
      maxEventLoopDelayMs: 100,
      intervalMs: 5,
      sampleDelayMs: () => samples.shift() ?? 10,
    }).start();
    await new Promise((r) => setTimeout(r, 12));
    expect(m.overloaded).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(m.overloaded).toBe(false);
    m.stop();
    const off = new LoadMonitor({ maxEventLoopDelayMs: 0, intervalMs: 1, sampleDelayMs: () => 1e6 }).start();
    await new Promise((r) => setTimeout(r, 10));
    expect(off.overloaded).toBe(false);
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
