import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// On the real server with two API keys: a WebRTC call belongs to the key that
// created it (its ephemeral keys included), and sidebands are admitted like sessions and end with the call.
const KEY_A = 'sk-owner-alpha-0123456789';
const KEY_B = 'sk-other-bravo-0123456789';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
let server: RunningServer;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await startTestServer(
    { auth: { api_keys: [KEY_A, KEY_B] }, limits: { max_sessions: 20, max_sessions_per_key: 3 } },
    { engine: null },
  );
});
afterAll(async () => server?.close());
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => {})));
  await holdsWithin(() => !(server.admission.activeSessions > 0), 6000); // bounded: the test's own expectations say if it never settled
});

async function call(key: string): Promise<WebRtcTestClient> {
  const c = await WebRtcTestClient.connect(server.httpUrl, { headers: bearer(key) });
  opened.push(c);
  return c;
}

async function sideband(callId: string, key: string): Promise<TestClient> {
  const ws = await TestClient.connectRaw(`${server.url}?call_id=${callId}`, { headers: bearer(key) });
  opened.push(ws);
  return ws;
}

async function mint(key: string): Promise<string> {
  const res = await fetch(`${server.httpUrl}/v1/realtime/client_secrets`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { value: string }).value;
}

describe('WebRTC call ownership', () => {
  it("answers another key's sideband (API or ephemeral key) as an unknown call, and its session.update never lands", async () => {
    const c = await call(KEY_A);
    const ephemeralB = await mint(KEY_B);
    for (const key of [KEY_B, ephemeralB]) {
      const ws = await sideband(c.callId, key);
      ws.send({ type: 'session.update', session: { type: 'realtime', instructions: 'hijacked' } });
      expect(await ws.closed).toBe(1008);
      expect(ws.ofType('error')[0]).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
      expect(ws.ofType('session.updated')).toHaveLength(0);
    }
    const unknown = await sideband('rtc_0123456789abcdef', KEY_B);
    expect(await unknown.closed).toBe(1008);
    expect(unknown.ofType('error')[0]).toMatchObject({ error: { code: 'E_NOT_FOUND', param: 'call_id' } });
    expect(c.ofType('session.updated')).toHaveLength(0);
  });

  it("lets the owner's own ephemeral key attach", async () => {
    const c = await call(KEY_A);
    const ws = await sideband(c.callId, await mint(KEY_A));
    ws.send({ type: 'session.update', session: { type: 'realtime', instructions: 'From my sideband.' } });
    await ws.waitFor((e) => e.type === 'session.updated');
  });

  it('answers a hang-up from another key with 404 and leaves the call up', async () => {
    const c = await call(KEY_A);
    for (const init of [{ method: 'DELETE' }, { method: 'POST', path: '/hangup' }]) {
      const res = await fetch(`${server.httpUrl}/v1/realtime/calls/${c.callId}${init.path ?? ''}`, {
        method: init.method,
        headers: bearer(KEY_B),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    }
    const ws = await sideband(c.callId, KEY_A);
    ws.send({ type: 'session.update', session: { type: 'realtime', instructions: 'still here' } });
    await ws.waitFor((e) => e.type === 'session.updated');
    const res = await fetch(`${server.httpUrl}/v1/realtime/calls/${c.callId}`, {
      method: 'DELETE',
      headers: bearer(KEY_A),
    });
    expect(res.status).toBe(200);
  });
});

describe('sidebands as sessions', () => {
  it('count against the per-key limit and are refused past it', async () => {
    const c = await call(KEY_A); // slot 1
    await sideband(c.callId, KEY_A); // slot 2
    await sideband(c.callId, KEY_A); // slot 3
    expect(server.admission.activeSessions).toBe(3);
    const refused = await attemptSideband(c.callId, KEY_A);
    expect(refused).toMatchObject({ status: 429, code: 'E_KEY_CAPACITY' });
    // Another key is unaffected by A's sidebands.
    await call(KEY_B);
  });

  it('are closed with 1000 when their call is hung up, and free their slots', async () => {
    const c = await call(KEY_A);
    const bands = [await sideband(c.callId, KEY_A), await sideband(c.callId, KEY_A)];
    const before = server.admission.activeSessions;
    expect(before).toBe(3);
    const res = await fetch(`${server.httpUrl}/v1/realtime/calls/${c.callId}`, {
      method: 'DELETE',
      headers: bearer(KEY_A),
    });
    expect(res.status).toBe(200);
    for (const ws of bands) expect(await ws.closed).toBe(1000);
    await holdsWithin(() => !(server.admission.activeSessions > 0), 6000); // bounded: the test's own expectations say if it never settled
    expect(server.admission.activeSessions).toBe(0);
  });
});

/** A sideband upgrade refused before the handshake: its HTTP status and error code. */
function attemptSideband(callId: string, key: string): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url}?call_id=${callId}`, { headers: bearer(key) });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { error: { code: string } }).error.code }),
      );
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    ws.once('open', () => {
      ws.close();
      reject(new Error('the sideband was admitted'));
    });
  });
}
