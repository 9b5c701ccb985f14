import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { upgradeAttempt } from '../../helpers/upgrade_attempt.ts';

// The whole server with its event loop held up (as 200 streams on two cores do): after the monitor's
// interval it refuses new sessions with 503 E_OVERLOADED and /readyz says 503; once the loop is free
// again it admits them.
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ limits: { max_event_loop_delay_ms: 100 } }, { engine: null });
});
afterAll(async () => server?.close());

/** Upgrade attempt: 101 (the socket closed at once), or the refusal's status, error code and Retry-After. */
async function attempt(): Promise<{ status: number; code?: string; retryAfter?: string }> {
  const { ws, ...outcome } = await upgradeAttempt(server.url);
  ws?.close();
  return outcome;
}

const readyz = async () => (await fetch(`${server.httpUrl}/readyz`)).status;

/** Busy-waits `blockMs` out of every `periodMs` for `totalMs`: the event loop falls behind. */
async function holdUpEventLoop(blockMs: number, periodMs: number, totalMs: number): Promise<void> {
  const end = Date.now() + totalMs;
  while (Date.now() < end) {
    const until = Date.now() + blockMs;
    while (Date.now() < until) {
      // busy
    }
    await new Promise((r) => setTimeout(r, periodMs - blockMs));
  }
}

describe('overload', () => {
  it('refuses new sessions while the event loop is behind, admits them again once it caught up', async () => {
    expect(await attempt()).toEqual({ status: 101 });
    await holdUpEventLoop(300, 350, 2500);
    const refused = await attempt();
    expect(refused).toMatchObject({ status: 503, code: 'E_OVERLOADED', retryAfter: '5' });
    expect(await readyz()).toBe(503);
    // Free again: within a couple of monitor intervals (1 s) sessions are admitted.
    let status = 0;
    for (let i = 0; i < 40 && status !== 101; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await attempt()).status;
    }
    expect(status).toBe(101);
  }, 30_000);
});
