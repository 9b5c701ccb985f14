import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { holdsWithin } from '../../helpers/wait_for.ts';

// Fuzzing the whole server's HTTP surface and WebSocket upgrade headers over raw TCP with keys on: every
// answer is a well-formed refusal or a legitimate success, never a 500, a hang or a crash, and nothing
// protected answers without the key.
const KEY = 'sk-fuzz-0123456789abcdef';
let server: RunningServer;
let port: number;
/** Status codes seen (0 = no answer), to show the properties exercised real answers. */
const httpSeen = new Map<number, number>();
const upgradeSeen = new Map<number, number>();

beforeAll(async () => {
  server = await startTestServer({ auth: { api_keys: [KEY] } }, { engine: null });
  port = server.address.port;
});
afterAll(async () => server?.close());

/** Sends raw bytes, resolves with everything the server answered before closing (or after 2 s). */
function raw(request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => (socket.destroy(), resolve(answer)), 2000);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      // A 101 keeps the socket open: the status line is all we need.
      if (answer.startsWith('HTTP/1.1 101')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    socket.on('close', () => (clearTimeout(timer), resolve(answer)));
    socket.write(request);
    socket.end();
  });
}

const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const token = fc.stringMatching(/^[\x21-\x7e]{0,80}$/);
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,300}$/),
  fc.constantFrom('', 'Bearer', 'Bearer ', `Bearer ${KEY}x`, `bearer ${KEY.slice(1)}`, 'Basic Zm9vOmJhcg=='),
);
const traversal = fc.constantFrom(
  '/../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/v1/sessions/..%2f..%2fetc',
  '/v1/sessions/%00',
  '/v1/realtime/../../metrics',
  '//metrics',
  '/metrics/',
  '/v1/sessions/' + 'a'.repeat(300),
);
const path = fc.oneof(
  traversal,
  fc.constantFrom(
    '//',
    '//evil.example/metrics',
    'http://127.0.0.1/metrics',
    '/v1/sessions',
    '/v1/sessions/sess_1',
    '/v1/sessions/sess_1/transcript',
    '/metrics',
    '/v1/realtime/client_secrets',
    '/healthz',
    '/readyz',
    '/v1/realtime',
  ),
  fc.stringMatching(/^\/[\x21-\x7e]{0,120}$/),
);
const query = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^\?[\x21-\x7e]{0,200}$/),
  fc.constantFrom(
    '?format=../../x',
    '?limit=-1',
    '?limit=1e9',
    '?after=%27%20OR%201=1--',
    '?format=vtt&format=srt',
    '?' + 'a=1&'.repeat(500),
  ),
);

describe('fuzzing the HTTP API with keys on', () => {
  it('random methods, paths, queries, credentials and bodies: no 500, nothing protected without the key', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
        path,
        query,
        fc.option(headerValue, { nil: undefined }),
        fc.oneof(
          fc.constant(''),
          fc.string({ maxLength: 400 }),
          fc.constantFrom(
            '{"expires_after":{"seconds":-5}}',
            '{"session":{"type":"nope"}}',
            '[]',
            'null',
            '{'.repeat(1000),
          ),
        ),
        async (method, p, q, auth, body) => {
          const bytes = Buffer.from(body, 'utf8');
          const head = `${method} ${p}${q} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth === undefined ? '' : `Authorization: ${auth}\r\n`}Content-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
          const answer = await raw(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
          const code = status(answer);
          httpSeen.set(code, (httpSeen.get(code) ?? 0) + 1);
          // Node may answer 400 itself for a malformed request line; an empty answer means it hung up.
          if (answer === '') return;
          expect(code, answer.slice(0, 200)).not.toBe(0);
          // 503 is /readyz without a model; any other 5xx is a server bug.
          expect(code < 500 || code === 503, answer.slice(0, 200)).toBe(true);
          const open = /^\/(healthz|readyz)$/.test(p) && (method === 'GET' || method === 'HEAD');
          if (code >= 200 && code < 300) expect(open, `${method} ${p}${q} answered ${code} without a key`).toBe(true);
        },
      ),
      { numRuns: 250 },
    );
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    // The property ran against answers, not hang-ups: most requests got a status, including refusals.
    expect((httpSeen.get(401) ?? 0) + (httpSeen.get(404) ?? 0)).toBeGreaterThan(50);
    expect(httpSeen.get(0) ?? 0).toBeLessThan(25);
  }, 60_000);

  it('oversized bodies are refused with 413 before being buffered', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x7b);
    const answer = await raw(
      Buffer.concat([
        Buffer.from(
          `POST /v1/realtime/client_secrets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n`,
        ),
        big,
      ]),
    );
    expect(status(answer)).toBe(413);
  });
});

describe('fuzzing WebSocket upgrade headers', () => {
  const upgrade = (headers: Record<string, string | undefined>, target = '/v1/realtime') =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;

  it('random subprotocols, keys, origins and versions: 101 only with a valid key and handshake, never a 5xx other than 503', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(
          fc.oneof(
            fc.array(token, { maxLength: 6 }).map((p) => p.join(', ')),
            fc.constantFrom(
              `realtime, openai-insecure-api-key.${KEY}`,
              'realtime, openai-insecure-api-key.',
              `openai-insecure-api-key.${KEY}`,
              `realtime,openai-insecure-api-key.${KEY},openai-insecure-api-key.x`,
              'realtime, openai-insecure-api-key.ek_' + 'x'.repeat(500),
            ),
          ),
          { nil: undefined },
        ),
        fc.option(headerValue, { nil: undefined }),
        fc.option(fc.oneof(headerValue, fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1')), {
          nil: undefined,
        }),
        fc.constantFrom('dGhlIHNhbXBsZSBub25jZQ==', '', 'short', 'x'.repeat(100), undefined),
        fc.constantFrom('13', '8', 'abc', undefined),
        fc.constantFrom(
          '/v1/realtime',
          '/v1/realtime?intent=transcription',
          '/v1/realtime?agent=' + '%'.repeat(50),
          '/v1/realtime/../metrics',
          '/other',
        ),
        async (protocols, auth, origin, wsKey, version, target) => {
          const answer = await raw(
            upgrade(
              {
                Connection: 'Upgrade',
                Upgrade: 'websocket',
                'Sec-WebSocket-Version': version,
                'Sec-WebSocket-Key': wsKey,
                'Sec-WebSocket-Protocol': protocols,
                Authorization: auth,
                Origin: origin,
              },
              target,
            ),
          );
          const code = status(answer);
          upgradeSeen.set(code, (upgradeSeen.get(code) ?? 0) + 1);
          if (answer === '') return;
          expect([101, 400, 401, 403, 404, 426, 429, 503], answer.slice(0, 200)).toContain(code);
          if (code === 101) {
            const credentialed =
              auth === `Bearer ${KEY}` ||
              (protocols ?? '').split(',').some((p) => p.trim() === `openai-insecure-api-key.${KEY}`);
            expect(credentialed, `upgraded without a key: ${protocols} / ${auth}`).toBe(true);
            // If the client offered `realtime`, it was selected.
            if (
              (protocols ?? '')
                .split(',')
                .map((p) => p.trim())
                .includes('realtime')
            )
              expect(answer).toMatch(/Sec-WebSocket-Protocol: realtime\r\n/i);
          }
        },
      ),
      { numRuns: 250 },
    );
    await holdsWithin(() => !(server.admission.activeSessions > 0), 4000); // bounded: the test's own expectations say if it never settled
    expect(server.admission.activeSessions).toBe(0);
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
    expect(upgradeSeen.get(401) ?? 0, JSON.stringify([...upgradeSeen])).toBeGreaterThan(20);
    // And the valid handshake still upgrades, selecting realtime next to the key subprotocol.
    const ok = await raw(
      upgrade({
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Protocol': `realtime, openai-insecure-api-key.${KEY}`,
      }),
    );
    expect(status(ok)).toBe(101);
    expect(ok).toMatch(/Sec-WebSocket-Protocol: realtime\r\n/i);
  }, 60_000);
});
