import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { keyIdOf } from '../../../src/transport/auth.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// The whole server (startServer) with keys configured: auth, origin and admission before the upgrade,
// over real sockets on 127.0.0.1.
const KEY_A = 'sk-server-alpha-0123456789';
const KEY_B = 'sk-server-bravo-0123456789';
let server: RunningServer;
const open: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer(
    {
      auth: { api_keys: [KEY_A], allowed_origins: ['https://app.example.com'] },
      limits: { max_sessions: 3, max_sessions_per_key: 2 },
    },
    { engine: null, env: { EARSHOT_API_KEYS: KEY_B } },
  );
});
afterAll(async () => server?.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await holdsWithin(() => !(server.admission.activeSessions > 0), 4000); // bounded: the test's own expectations say if it never settled
});

type Refusal = { status: number; body: { error: { code: string } }; retryAfter?: string; wwwAuthenticate?: string };

/** Opens a WebSocket; resolves with the client, or the HTTP refusal. */
function attempt(
  opts: { protocols?: string[]; headers?: Record<string, string>; origin?: string } = {},
): Promise<TestClient | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, opts.protocols ?? ['realtime'], {
      headers: opts.headers,
      origin: opts.origin,
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(body),
          retryAfter: res.headers['retry-after'],
          wwwAuthenticate: res.headers['www-authenticate'],
        }),
      );
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    ws.once('open', () => {
      ws.close();
      resolve(
        TestClient.connect(server.url, {
          protocols: opts.protocols ?? ['realtime'],
          headers: opts.headers,
          origin: opts.origin,
        }).then((c) => (open.push(c), c)),
      );
    });
  });
}

async function connect(key: string, extra: { origin?: string } = {}): Promise<TestClient> {
  const c = await TestClient.connect(server.url, { headers: { authorization: `Bearer ${key}` }, origin: extra.origin });
  open.push(c);
  return c;
}

describe('authentication on the real server', () => {
  it('refuses a missing, wrong or ephemeral-looking key with 401 before the upgrade', async () => {
    for (const opts of [
      {},
      { headers: { authorization: 'Bearer sk-wrong-wrong-wrong-wrong' } },
      { protocols: ['realtime', 'openai-insecure-api-key.ek_forged'] },
    ]) {
      const r = await attempt(opts);
      expect(r).toMatchObject({ status: 401, body: { error: { code: 'E_UNAUTHORIZED' } } });
      expect((r as Refusal).wwwAuthenticate).toContain('Bearer');
    }
    expect(server.admission.activeSessions).toBe(0);
    const metrics = await server.metrics.registry.getSingleMetricAsString('earshot_sessions_rejected_total');
    expect(metrics).toMatch(/reason="unauthorized"} [3-9]/);
  });

  it('accepts the config key, the EARSHOT_API_KEYS key, and the subprotocol key (selecting realtime)', async () => {
    const a = await connect(KEY_A);
    const b = await connect(KEY_B);
    const viaProtocol = await TestClient.connect(server.url, {
      protocols: ['realtime', `openai-insecure-api-key.${KEY_A}`],
    });
    open.push(viaProtocol);
    expect(viaProtocol.ws.protocol).toBe('realtime');
    for (const c of [a, b, viaProtocol]) {
      const limits = await c.waitFor((e) => e.type === 'rate_limits.updated');
      expect(c.events.findIndex((e) => e.type === 'session.created')).toBeLessThan(c.events.indexOf(limits));
    }
    // Capacity as each key sees it: KEY_A holds 2 of its 2 slots, the server 3 of 3.
    expect(server.admission.activeFor(keyIdOf(KEY_A))).toBe(2);
  });

  it('refuses a foreign browser origin with 403 even with a valid key; allows the listed one', async () => {
    expect(
      await attempt({ headers: { authorization: `Bearer ${KEY_A}` }, origin: 'https://evil.example.com' }),
    ).toMatchObject({ status: 403, body: { error: { code: 'E_FORBIDDEN_ORIGIN' } } });
    await connect(KEY_A, { origin: 'https://app.example.com' });
  });

  it('ephemeral keys: minted with an API key, accepted once for the WebSocket with their session preset, refused for the HTTP API', async () => {
    const mint = await fetch(`${server.httpUrl}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        expires_after: { anchor: 'created_at', seconds: 60 },
        session: { type: 'realtime', instructions: 'Be terse.' },
      }),
    });
    expect(mint.status).toBe(200);
    const { value, session } = (await mint.json()) as { value: string; session: { instructions: string } };
    expect(value).toMatch(/^ek_/);
    expect(session.instructions).toBe('Be terse.');
    const c = await TestClient.connect(server.url, { protocols: ['realtime', `openai-insecure-api-key.${value}`] });
    open.push(c);
    const created = c.events.find((e) => e.type === 'session.created') as unknown as {
      session: { instructions: string };
    };
    expect(created.session.instructions).toBe('Be terse.');
    expect(c.ofType('session.updated')).toEqual([]);
    // Counted against the key that minted it.
    expect(server.admission.activeFor(keyIdOf(KEY_A))).toBe(1);
    expect(
      (await fetch(`${server.httpUrl}/v1/sessions`, { headers: { authorization: `Bearer ${value}` } })).status,
    ).toBe(401);
    // An ephemeral key cannot mint more keys.
    expect(
      (
        await fetch(`${server.httpUrl}/v1/realtime/client_secrets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${value}` },
          body: '{}',
        })
      ).status,
    ).toBe(401);
  });

  it('no HTTP API route answers without a key; health and readiness probes do', async () => {
    for (const path of [
      '/v1/sessions',
      '/v1/sessions/sess_x',
      '/v1/sessions/sess_x/transcript?format=srt',
      '/metrics',
    ]) {
      expect((await fetch(server.httpUrl + path)).status, path).toBe(401);
    }
    expect((await fetch(`${server.httpUrl}/v1/realtime/client_secrets`, { method: 'POST', body: '{}' })).status).toBe(
      401,
    );
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    // No model is loaded in this server: not ready.
    expect(await (await fetch(`${server.httpUrl}/readyz`)).json()).toEqual({
      status: 'model_missing',
      voice_engine: 'espeak',
    });
  });
});

describe('admission on the real server', () => {
  it('per key: 429 with Retry-After and E_KEY_CAPACITY; global: 503 with E_CAPACITY; a freed slot admits again', async () => {
    await connect(KEY_A);
    const second = await connect(KEY_A);
    expect(await attempt({ headers: { authorization: `Bearer ${KEY_A}` } })).toMatchObject({
      status: 429,
      retryAfter: '5',
      body: { error: { code: 'E_KEY_CAPACITY' } },
    });
    await connect(KEY_B);
    expect(await attempt({ headers: { authorization: `Bearer ${KEY_B}` } })).toMatchObject({
      status: 503,
      body: { error: { code: 'E_CAPACITY' } },
    });
    // rate_limits.updated tells a session what is left: nothing, the server is full.
    const limits = second.ofType('rate_limits.updated');
    expect(limits.at(-1)).toMatchObject({ rate_limits: [{ name: 'requests', limit: 2 }] });
    await second.close();
    open.splice(open.indexOf(second), 1);
    await holdsWithin(() => !(server.admission.activeSessions > 2), 4000); // bounded: the test's own expectations say if it never settled
    const again = await connect(KEY_A);
    expect(await again.waitFor((e) => e.type === 'rate_limits.updated')).toMatchObject({
      rate_limits: [{ name: 'requests', remaining: 0 }],
    });
    const text = await server.metrics.registry.getSingleMetricAsString('earshot_sessions_rejected_total');
    expect(text).toContain('reason="max_sessions_per_key"');
    expect(text).toContain('reason="max_sessions"');
  });
});

describe('session limits', () => {
  it('idle timeout and maximum duration end a session with an error event and close 1008', async () => {
    const s = await startTestServer(
      { limits: { idle_timeout_ms: 300, max_session_duration_ms: 60_000 } },
      { engine: null },
    );
    try {
      const idle = await TestClient.connect(s.url);
      const code = await idle.closed;
      expect(code).toBe(1008);
      expect(idle.ofType('error').map((e) => (e.error as { code: string }).code)).toEqual(['E_IDLE_TIMEOUT']);
    } finally {
      await s.close();
    }
    const d = await startTestServer(
      { limits: { idle_timeout_ms: 60_000, max_session_duration_ms: 400 } },
      { engine: null },
    );
    try {
      const c = await TestClient.connect(d.url);
      // Activity does not extend the duration limit.
      const keepAlive = setInterval(
        () => c.ws.readyState === WebSocket.OPEN && c.send({ type: 'input_audio_buffer.clear' }),
        50,
      );
      expect(await c.closed).toBe(1008);
      clearInterval(keepAlive);
      expect(c.ofType('error').map((e) => (e.error as { code: string }).code)).toContain('E_SESSION_EXPIRED');
      await holdsWithin(() => !(d.admission.activeSessions > 0), 2000); // bounded: the test's own expectations say if it never settled
      expect(d.admission.activeSessions).toBe(0);
      expect(await d.metrics.registry.getSingleMetricAsString('earshot_sessions_ended_total')).toContain(
        'reason="max_duration"} 1',
      );
    } finally {
      await d.close();
    }
  });

  it('refuses to start without keys on a non-loopback address', async () => {
    await expect(startTestServer({ server: { host: '0.0.0.0' } }, { engine: null })).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    });
  });
});
