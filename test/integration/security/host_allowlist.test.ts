import { request } from 'node:http';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { hostNameOf } from '../../../src/transport/host_allowlist.ts';
import { startTestServer } from '../../helpers/test_server.ts';

// DNS rebinding. A page on attacker.example whose name resolves to 127.0.0.1 sends
// `Host: attacker.example:PORT` (and a matching Origin); the keyless loopback server must not answer it.
let keyless: RunningServer;
let keyed: RunningServer;
const KEY = 'sk-host-check-0123456789';

beforeAll(async () => {
  keyless = await startTestServer({}, { engine: null });
  keyed = await startTestServer(
    { auth: { api_keys: [KEY] }, server: { allowed_hosts: ['voice.example.com'] } },
    { engine: null },
  );
});
afterAll(async () => {
  await keyless?.close();
  await keyed?.close();
});

/** One HTTP request to 127.0.0.1 with the given Host header: status and body. */
function get(
  server: RunningServer,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket upgrade with the given Host header: 'open', or the refusal's status and code. */
function upgrade(
  server: RunningServer,
  host: string,
  headers: Record<string, string> = {},
): Promise<'open' | { status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, { headers: { host, ...headers } });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { error: { code: string } }).error.code }),
      );
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
  });
}

const port = fc.integer({ min: 1, max: 65535 });
const loopbackName = fc.constantFrom('localhost', '127.0.0.1', '[::1]', 'LOCALHOST', '127.1.2.3', 'app.localhost');
const foreignName = fc.domain().filter((d) => !/(^|\.)localhost$/i.test(d));

describe('host allowlist without keys', () => {
  it('refuses a rebinding host (with or without a matching Origin) with 421 on every route', async () => {
    await fc.assert(
      fc.asyncProperty(
        foreignName,
        port,
        fc.constantFrom('/v1/sessions', '/healthz', '/v1/realtime/client_secrets', '/metrics', '/'),
        async (name, p, path) => {
          const host = `${name}:${p}`;
          const res = await get(keyless, path, { host, origin: `http://${host}` });
          expect(res.status).toBe(421);
          expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'E_HOST_NOT_ALLOWED' } });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('serves loopback names on any port', async () => {
    await fc.assert(
      fc.asyncProperty(loopbackName, port, async (name, p) => {
        const res = await get(keyless, '/v1/sessions', { host: `${name}:${p}` });
        expect(res.status).toBe(200);
      }),
      { numRuns: 15 },
    );
  });

  it('refuses a rebinding WebSocket upgrade before the handshake', async () => {
    expect(
      await upgrade(keyless, `attacker.example:${keyless.address.port}`, {
        origin: `http://attacker.example:${keyless.address.port}`,
      }),
    ).toEqual({ status: 421, code: 'E_HOST_NOT_ALLOWED' });
    expect(await upgrade(keyless, `localhost:${keyless.address.port}`)).toBe('open');
  });

  it('refuses malformed Host headers', async () => {
    for (const host of ['localhost@attacker.example', 'attacker.example/x', 'localhost:1 x'])
      expect((await get(keyless, '/healthz', { host })).status).not.toBe(200);
  });
});

describe('host allowlist with keys', () => {
  it('serves server.allowed_hosts and loopback, and refuses other hosts', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    expect((await get(keyed, '/v1/sessions', { host: 'voice.example.com', ...auth })).status).toBe(200);
    expect((await get(keyed, '/v1/sessions', { host: 'VOICE.example.com.:443', ...auth })).status).toBe(200);
    expect((await get(keyed, '/v1/sessions', { host: 'other.example.com', ...auth })).status).toBe(421);
    expect(await upgrade(keyed, 'other.example.com', auth)).toEqual({ status: 421, code: 'E_HOST_NOT_ALLOWED' });
  });
});

describe('hostNameOf', () => {
  it('reads name[:port] and [v6]:port, and rejects anything else', () => {
    expect(hostNameOf('LocalHost:8787')).toBe('localhost');
    expect(hostNameOf('[::1]:1')).toBe('[::1]');
    expect(hostNameOf('example.com.')).toBe('example.com');
    for (const bad of [undefined, '', 'a b', 'x@y', 'x/y', 'x:99999']) expect(hostNameOf(bad)).toBeNull();
  });
});
