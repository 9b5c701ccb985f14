import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { SINGLE_THREAD, tinyModelDir } from '../engine_host/engine_fixture.ts';

// The overload guard watched the event loop (and then the VAD), which stay fast while the
// engine falls behind. With the real engine (tiny model) in the server, a step that holds the engine for
// seconds (as a prefill slice of a large model on a slow machine does) makes another session's queued step
// wait; past limits.max_engine_wait_ms the server refuses new sessions at the upgrade (503 E_OVERLOADED)
// and tells the admitted session it has nothing left (rate_limits.updated), then admits again once the
// queue moves.
let engine: Phi4Engine;
let server: RunningServer;

beforeAll(async () => {
  engine = await Phi4Engine.load({ modelDir: await tinyModelDir(), sessionOptions: SINGLE_THREAD });
  server = await startTestServer({ limits: { max_engine_wait_ms: 300 } }, { engine });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

/** Upgrade attempt: 101, or the refusal's status and error code. */
function attempt(): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, ['realtime']);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(body).error?.code }));
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('admission by engine queue wait', () => {
  it('refuses new sessions while queued steps wait past the bound, tells admitted ones, and recovers', async () => {
    const admitted = await TestClient.connect(server.url, { protocols: ['realtime'] });
    expect(await attempt()).toEqual({ status: 101 });
    // One step holds the engine for 3 s; another session's step queues behind it.
    const holding = engine.scheduler.submit('holding-lane', async function* () {
      await sleep(3000);
    });
    const queued = engine.scheduler.submit('queued-lane', async function* () {});
    // Within two monitor intervals (1 s each) the guard has seen the wait.
    const limits = await admitted.waitFor(
      (e) =>
        e.type === 'rate_limits.updated' &&
        (e as unknown as { rate_limits: { remaining: number }[] }).rate_limits[0].remaining === 0,
    );
    expect(limits).toMatchObject({ rate_limits: [{ name: 'requests', remaining: 0 }] });
    expect(await attempt()).toMatchObject({ status: 503, code: 'E_OVERLOADED' });
    expect((await fetch(`${server.httpUrl}/readyz`)).status).toBe(503);
    await Promise.all([holding, queued]);
    const seen = admitted.events.length;
    // The queue moves again: the guard forgets the wait after its window and admits.
    let status = 0;
    for (let i = 0; i < 60 && status !== 101; i++) {
      await sleep(100);
      status = (await attempt()).status;
    }
    expect(status).toBe(101);
    await admitted.waitFor(
      (e) =>
        e.type === 'rate_limits.updated' &&
        (e as unknown as { rate_limits: { remaining: number }[] }).rate_limits[0].remaining > 0,
      10_000,
      seen,
    );
    await admitted.close();
  }, 60_000);
});
