import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionController, type SessionTicket } from '../../../src/transport/admission.ts';
import { Authenticator, keyIdOf, upgradeRefusal } from '../../../src/transport/auth.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// The wiring the integrator will put in RealtimeServer.onUpgrade, exercised with real sockets: auth
// before the upgrade (401/403), admission before the upgrade (429/503 + Retry-After), a slot per socket.
const KEY = 'sk-upgrade-test-000000000';
const auth = new Authenticator({ apiKeys: [KEY], allowedOrigins: ['https://app.example.com'] });
const admission = new AdmissionController({
  maxSessions: 2,
  maxSessionsPerKey: 1,
  maxSessionDurationMs: 60_000,
  idleTimeoutMs: 60_000,
});
let http: Server;
let url: string;

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('realtime') ? 'realtime' : false) });
  http = createServer();
  http.on('upgrade', (req, socket, head) => {
    const decision = auth.authorizeUpgrade(req);
    if (!decision.ok) {
      socket.end(upgradeRefusal(decision.status, decision.code, decision.message));
      return;
    }
    let ticket: SessionTicket | null = null;
    const admitted = admission.admit(decision.identity.keyId, () => {});
    if (!admitted.ok) {
      socket.end(
        upgradeRefusal(admitted.httpStatus, admitted.code, admitted.message, {
          'Retry-After': String(admitted.retryAfterS),
        }),
      );
      return;
    }
    ticket = admitted.ticket;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: 'session.created', key_id: decision.identity.keyId }));
      ws.on('close', () => ticket?.release());
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/v1/realtime`;
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

type Outcome = { status: number; body: string; retryAfter?: string } | { open: WebSocket; first: string };

function connect(opts: { protocols?: string[]; headers?: Record<string, string>; origin?: string }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? ['realtime'], { headers: opts.headers, origin: opts.origin });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] }));
    });
    ws.once('message', (data) => resolve({ open: ws, first: String(data) }));
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

describe('upgrade gate with real WebSockets', () => {
  it('refuses a missing or wrong key with 401 before the upgrade', async () => {
    expect(await connect({})).toMatchObject({ status: 401, body: expect.stringContaining('E_UNAUTHORIZED') });
    expect(await connect({ protocols: ['realtime', 'openai-insecure-api-key.sk-nope-nope-nope-nope'] })).toMatchObject({
      status: 401,
    });
  });

  it('refuses a foreign browser origin with 403 even with a valid key', async () => {
    const outcome = await connect({
      protocols: ['realtime', `openai-insecure-api-key.${KEY}`],
      origin: 'https://evil.example.com',
    });
    expect(outcome).toMatchObject({ status: 403, body: expect.stringContaining('E_FORBIDDEN_ORIGIN') });
  });

  it('accepts the subprotocol key (selecting realtime), then applies the per-key limit with 429 + Retry-After', async () => {
    const first = await connect({
      protocols: ['realtime', `openai-insecure-api-key.${KEY}`],
      origin: 'https://app.example.com',
    });
    if (!('open' in first)) throw new Error(`refused: ${JSON.stringify(first)}`);
    expect(first.open.protocol).toBe('realtime');
    expect(JSON.parse(first.first)).toEqual({ type: 'session.created', key_id: keyIdOf(KEY) });
    const second = await connect({ headers: { authorization: `Bearer ${KEY}` } });
    expect(second).toMatchObject({ status: 429, retryAfter: '5', body: expect.stringContaining('E_KEY_CAPACITY') });
    first.open.close();
    await new Promise((resolve) => first.open.once('close', resolve));
    // The server's close handler releases the slot; wait for it rather than for a fixed time.
    await holdsWithin(() => !(admission.activeFor(keyIdOf(KEY)) > 0), 10000); // bounded: the test's own expectations say if it never settled
    expect(admission.activeFor(keyIdOf(KEY))).toBe(0);
    const third = await connect({ headers: { authorization: `Bearer ${KEY}` } });
    expect('open' in third).toBe(true);
    if ('open' in third) third.open.close();
  });
});
