import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { keyIdOf } from '../../../src/transport/auth.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { TestClient } from '../../helpers/ws_client.ts';

// Ephemeral keys are bounded per minting key (count and preset bytes), presets
// have a size bound, mint bodies have a WebSocket event's depth bound, and a preset is checked at mint
// exactly as the connection applies it.
const KEY_A = 'sk-mint-alpha-0123456789';
const KEY_B = 'sk-mint-bravo-0123456789';
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer(
    {
      auth: {
        api_keys: [KEY_A, KEY_B],
        max_ephemeral_keys_per_key: 5,
        max_ephemeral_keys: 8,
        max_ephemeral_preset_bytes: 256 * 1024,
        max_ephemeral_bytes_per_key: 1024 * 1024,
      },
    },
    { engine: null },
  );
});
afterAll(async () => server?.close());

async function mint(
  key: string,
  body: unknown,
): Promise<{
  status: number;
  json: { value?: string; session?: { instructions?: string }; error?: { code: string; param?: string } };
}> {
  const res = await fetch(`${server.httpUrl}/v1/realtime/client_secrets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as never };
}

/** `{ a: { a: ... } }` nested `depth` levels, built as text so building it cannot overflow either. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('ephemeral key quotas', () => {
  it('one key at its quota gets 429 E_EPHEMERAL_KEY_QUOTA while another key still mints; the shared pool is bounded', async () => {
    for (let i = 0; i < 5; i++) expect((await mint(KEY_A, {})).status).toBe(200);
    expect(await mint(KEY_A, {})).toMatchObject({ status: 429, json: { error: { code: 'E_EPHEMERAL_KEY_QUOTA' } } });
    for (let i = 0; i < 3; i++) expect((await mint(KEY_B, {})).status).toBe(200);
    expect(await mint(KEY_B, {})).toMatchObject({ status: 429, json: { error: { code: 'E_CAPACITY' } } });
    expect(server.auth.ephemeralUsageOf(keyIdOf(KEY_A)).keys).toBe(5);
    expect(server.auth.ephemeralUsageOf(keyIdOf(KEY_B)).keys).toBe(3);
  });

  it('refuses a preset over max_ephemeral_preset_bytes with 413', async () => {
    const r = await mint(KEY_B, { session: { type: 'realtime', instructions: 'x'.repeat(257 * 1024) } });
    expect(r).toMatchObject({ status: 413, json: { error: { code: 'E_PAYLOAD_TOO_LARGE', param: 'session' } } });
  });
});

describe('mint bodies and presets', () => {
  it('answers any nesting depth with 200 (within the event bound) or 400, never 500, and an accepted preset applies at connect', async () => {
    const depths = fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(100, 5000, 20_000));
    await fc.assert(
      fc.asyncProperty(depths, fc.constantFrom('metadata', 'tools'), async (depth, where) => {
        await freeQuota();
        const inner =
          where === 'metadata'
            ? `"metadata":${nested(depth)}`
            : `"tools":[{"type":"function","name":"f","description":"d","parameters":${nested(depth)}}]`;
        const r = await mint(KEY_A, `{"session":{"type":"realtime","instructions":"preset ${depth}",${inner}}}`);
        expect([200, 400]).toContain(r.status);
        if (r.status === 400) {
          expect(r.json.error?.code).toBe('E_INVALID_REQUEST');
          return;
        }
        const c = await TestClient.connect(server.url, { headers: { authorization: `Bearer ${r.json.value}` } });
        await c.roundTrip();
        expect(c.ofType('error')).toEqual([]);
        expect((c.ofType('session.created')[0].session as { instructions: string }).instructions).toBe(
          `preset ${depth}`,
        );
        await c.close();
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('refuses at mint a preset the connection would refuse (unknown agent, beta field)', async () => {
    await freeQuota();
    expect(await mint(KEY_A, { session: { type: 'realtime', agent: 'nobody' } })).toMatchObject({
      status: 400,
      json: { error: { code: 'E_AGENT_UNKNOWN' } },
    });
    expect(await mint(KEY_A, { session: { type: 'realtime', modalities: ['text'] } })).toMatchObject({ status: 400 });
  });
});

/** Expires every ephemeral key at once (the server runs on the real clock; keys live at least 10 s). */
async function freeQuota(): Promise<void> {
  const auth = server.auth as unknown as { ephemeral: Map<string, { expiresAtMs: number }> };
  for (const entry of auth.ephemeral.values()) entry.expiresAtMs = 0;
  expect(server.auth.ephemeralKeyCount).toBe(0);
}
