import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { upgradeAttempt } from '../../helpers/upgrade_attempt.ts';
import { TestClient } from '../../helpers/ws_client.ts';

// Admission by predicted capacity on the whole server: before any per-session cost is measured, slow start
// (here 1 session a second, no floor) refuses a burst at the upgrade with 503 E_OVERLOADED and Retry-After,
// and the admitted session is told by rate_limits.updated that nothing remains.
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer(
    { limits: { admission_max_utilization: 0.7, admission_slow_start_per_s: 1, admission_min_sessions: 0 } },
    { engine: null },
  );
});
afterAll(async () => server?.close());

const attempt = () => upgradeAttempt(server.url);

describe('predicted capacity', () => {
  it('slow start refuses a burst with 503 E_OVERLOADED; admitted sessions see nothing remaining', async () => {
    const first = await TestClient.connect(server.url);
    try {
      const burst = await Promise.all([attempt(), attempt(), attempt(), attempt(), attempt()]);
      const refused = burst.filter((r) => r.status !== 101);
      // One a second: a burst of five is at most partly admitted, and every refusal is the overload one.
      expect(refused.length).toBeGreaterThanOrEqual(3);
      for (const r of refused) expect(r).toMatchObject({ status: 503, code: 'E_OVERLOADED', retryAfter: '5' });
      for (const r of burst) r.ws?.close();
      const limits = await first.waitFor(
        (e) =>
          e.type === 'rate_limits.updated' &&
          (e.rate_limits as { name: string; remaining: number }[]).some(
            (l) => l.name === 'requests' && l.remaining === 0,
          ),
        10_000,
      );
      expect(limits.type).toBe('rate_limits.updated');
    } finally {
      await first.close();
    }
  });
});
