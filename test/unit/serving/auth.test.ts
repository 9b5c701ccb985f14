import { inspect } from 'node:util';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Count calls to crypto.timingSafeEqual while keeping the real implementation.
const cryptoSpy = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      cryptoSpy.calls += 1;
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { Authenticator, assertSafeToServe, collectApiKeys, hashKey, isLoopbackHost, keyIdOf } = await import(
  '../../../src/transport/auth.ts'
);
const { authSchema } = await import('../../../src/config/auth_limits_store_schema.ts');

const KEY_A = 'sk-earshot-aaaaaaaaaaaaaaaa';
const KEY_B = 'sk-earshot-bbbbbbbbbbbbbbbb';

function req(headers: Record<string, string>) {
  return { headers };
}

describe('Authenticator', () => {
  let nowMs = 1_700_000_000_000;
  const clock = () => nowMs;
  let auth: InstanceType<typeof Authenticator>;
  beforeEach(() => {
    nowMs = 1_700_000_000_000;
    auth = new Authenticator({ apiKeys: [KEY_A, KEY_B], nowMs: clock, allowedOrigins: ['https://app.example.com'] });
    cryptoSpy.calls = 0;
  });

  it('keeps only SHA-256 hashes of the keys', () => {
    const dump = inspect(auth, { depth: 10, showHidden: true });
    expect(dump).not.toContain(KEY_A);
    expect(dump).not.toContain(KEY_B);
    expect(hashKey(KEY_A)).toHaveLength(32);
    expect(keyIdOf(KEY_A)).toMatch(/^key_[0-9a-f]{12}$/);
    expect(keyIdOf(KEY_A)).not.toBe(keyIdOf(KEY_B));
    expect(keyIdOf(KEY_A)).toBe(keyIdOf(KEY_A));
  });

  it('compares with crypto.timingSafeEqual against every configured key, even after a match', () => {
    const decision = auth.authorizeRequest(req({ authorization: `Bearer ${KEY_A}` }));
    expect(decision).toEqual({ ok: true, identity: { kind: 'api_key', keyId: keyIdOf(KEY_A) } });
    expect(cryptoSpy.calls).toBe(2);
    cryptoSpy.calls = 0;
    expect(auth.authorizeRequest(req({ authorization: 'Bearer wrong-key-wrong-key' })).ok).toBe(false);
    expect(cryptoSpy.calls).toBe(2);
  });

  it('accepts a Bearer header (case-insensitive scheme) and rejects wrong or missing keys with 401', () => {
    expect(auth.authorizeRequest(req({ authorization: `bearer ${KEY_B}` }))).toMatchObject({
      ok: true,
      identity: { keyId: keyIdOf(KEY_B) },
    });
    expect(auth.authorizeRequest(req({ authorization: `Bearer ${KEY_A}x` }))).toMatchObject({
      ok: false,
      status: 401,
      code: 'E_UNAUTHORIZED',
    });
    expect(auth.authorizeRequest(req({ authorization: `Basic ${KEY_A}` }))).toMatchObject({ ok: false, status: 401 });
    expect(auth.authorizeRequest(req({}))).toMatchObject({
      ok: false,
      status: 401,
      message: expect.stringContaining('Missing API key'),
    });
  });

  it('accepts the openai-insecure-api-key subprotocol on upgrades only', () => {
    const headers = { 'sec-websocket-protocol': `realtime, openai-insecure-api-key.${KEY_A}, openai-beta.realtime-v1` };
    expect(auth.authorizeUpgrade(req(headers))).toMatchObject({
      ok: true,
      identity: { kind: 'api_key', keyId: keyIdOf(KEY_A) },
    });
    expect(auth.authorizeRequest(req(headers))).toMatchObject({ ok: false, status: 401 });
    expect(
      auth.authorizeUpgrade(req({ 'sec-websocket-protocol': 'realtime, openai-insecure-api-key.nope-nope-nope-nope' })),
    ).toMatchObject({ ok: false, status: 401 });
    expect(auth.authorizeUpgrade(req({ authorization: `Bearer ${KEY_B}` }))).toMatchObject({ ok: true });
  });

  it('mints ephemeral keys that work until their TTL and then are refused', () => {
    const owner = { kind: 'api_key' as const, keyId: keyIdOf(KEY_A) };
    const session = { type: 'transcription' };
    const ek = auth.issueEphemeralKey(owner, { ttlS: 60, session });
    expect(ek.value).toMatch(/^ek_[A-Za-z0-9_-]{32}$/);
    expect(ek.expiresAtS).toBe(Math.floor(nowMs / 1000) + 60);
    expect(inspect(auth, { depth: 10 })).not.toContain(ek.value);
    const viaProtocol = auth.authorizeUpgrade(
      req({ 'sec-websocket-protocol': `realtime, openai-insecure-api-key.${ek.value}` }),
    );
    expect(viaProtocol).toEqual({
      ok: true,
      identity: { kind: 'ephemeral', keyId: owner.keyId, ephemeral: { session, expiresAtS: ek.expiresAtS } },
    });
    expect(auth.authorizeUpgrade(req({ authorization: `Bearer ${ek.value}` }))).toMatchObject({ ok: true });
    // The HTTP API refuses ephemeral keys unless the route opts in (WebRTC calls).
    expect(auth.authorizeRequest(req({ authorization: `Bearer ${ek.value}` }))).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(auth.authorizeRequest(req({ authorization: `Bearer ${ek.value}` }), { allowEphemeral: true })).toMatchObject(
      { ok: true },
    );
    nowMs += 59_999;
    expect(auth.authorizeUpgrade(req({ authorization: `Bearer ${ek.value}` })).ok).toBe(true);
    nowMs += 1;
    expect(auth.authorizeUpgrade(req({ authorization: `Bearer ${ek.value}` }))).toMatchObject({
      ok: false,
      status: 401,
      message: expect.stringContaining('expired'),
    });
    expect(auth.ephemeralKeyCount).toBe(0);
    expect(auth.authorizeUpgrade(req({ authorization: 'Bearer ek_forgedforgedforgedforgedforgedfo' }))).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it('ephemeral keys: TTL range 10..7200 s, cannot mint more, bounded in number', () => {
    const owner = { kind: 'api_key' as const, keyId: 'key_x' };
    expect(() => auth.issueEphemeralKey(owner, { ttlS: 9 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_REQUEST' }),
    );
    expect(() => auth.issueEphemeralKey(owner, { ttlS: 7201 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_REQUEST' }),
    );
    expect(auth.issueEphemeralKey(owner).expiresAtS).toBe(Math.floor(nowMs / 1000) + 600);
    expect(() => auth.issueEphemeralKey({ kind: 'ephemeral', keyId: 'key_x' })).toThrow(
      expect.objectContaining({ code: 'E_UNAUTHORIZED' }),
    );
    const small = new Authenticator({ apiKeys: [KEY_A], maxEphemeralKeys: 2, nowMs: clock });
    small.issueEphemeralKey(owner, { ttlS: 10 });
    small.issueEphemeralKey(owner, { ttlS: 20 });
    expect(() => small.issueEphemeralKey(owner)).toThrow(expect.objectContaining({ code: 'E_CAPACITY' }));
    nowMs += 10_000; // the first one expires and its room is reused
    expect(small.issueEphemeralKey(owner).value).toMatch(/^ek_/);
  });

  it('origin allowlist: no Origin and same-origin pass, listed passes, others get 403 before the key is looked at', () => {
    const ok = { authorization: `Bearer ${KEY_A}` };
    expect(auth.authorizeUpgrade(req(ok)).ok).toBe(true);
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'https://app.example.com' })).ok).toBe(true);
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'HTTPS://APP.EXAMPLE.COM' })).ok).toBe(true);
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'https://evil.example.com' }))).toMatchObject({
      ok: false,
      status: 403,
      code: 'E_FORBIDDEN_ORIGIN',
    });
    expect(auth.authorizeUpgrade(req({ origin: 'https://evil.example.com' }))).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'null' }))).toMatchObject({ ok: false, status: 403 });
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'https://127.0.0.1:8787', host: '127.0.0.1:8787' })).ok).toBe(
      true,
    );
    expect(auth.authorizeUpgrade(req({ ...ok, origin: 'https://127.0.0.1:9999', host: '127.0.0.1:8787' })).ok).toBe(
      false,
    );
    const any = new Authenticator({ apiKeys: [], allowedOrigins: ['*'] });
    expect(any.authorizeUpgrade(req({ origin: 'https://anything.test' })).ok).toBe(true);
  });

  it('without keys every request is anonymous (origin still checked)', () => {
    const open = new Authenticator({ apiKeys: [] });
    expect(open.enabled).toBe(false);
    expect(open.authorizeRequest(req({}))).toEqual({ ok: true, identity: { kind: 'anonymous', keyId: 'anonymous' } });
    expect(open.authorizeUpgrade(req({ origin: 'https://elsewhere.test', host: '127.0.0.1:1' }))).toMatchObject({
      ok: false,
      status: 403,
    });
  });
});

describe('keys from config and EARSHOT_API_KEYS', () => {
  it('merges, trims and de-duplicates', () => {
    expect(collectApiKeys([KEY_A], ` ${KEY_B} ,, ${KEY_A}`)).toEqual([KEY_A, KEY_B]);
    const auth = Authenticator.fromConfig(authSchema.parse({ api_keys: [KEY_A] }), { EARSHOT_API_KEYS: KEY_B });
    expect(auth.keyCount).toBe(2);
    expect(auth.authorizeRequest(req({ authorization: `Bearer ${KEY_B}` })).ok).toBe(true);
  });

  it('rejects short or ek_ env keys with E_CONFIG_INVALID without echoing them', () => {
    let err: unknown;
    try {
      collectApiKeys([], `${KEY_A},short1,ek_aaaaaaaaaaaaaaaaaaaa`);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID' });
    const message = (err as Error).message;
    expect(message).toContain('entry 2');
    expect(message).toContain('entry 3');
    expect(message).not.toContain('short1');
    expect(() => authSchema.parse({ api_keys: ['tooshort'] })).toThrow();
  });
});

describe('serving without keys', () => {
  it('is allowed on loopback hosts only, unless forced', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(true);
      expect(() =>
        assertSafeToServe({ host, authEnabled: false, allowUnauthenticatedNonLoopback: false }),
      ).not.toThrow();
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '::ffff:10.0.0.1']) {
      expect(isLoopbackHost(host)).toBe(false);
      expect(() => assertSafeToServe({ host, authEnabled: false, allowUnauthenticatedNonLoopback: false })).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringContaining('allow_unauthenticated_non_loopback'),
        }),
      );
      expect(() =>
        assertSafeToServe({ host, authEnabled: true, allowUnauthenticatedNonLoopback: false }),
      ).not.toThrow();
      expect(() =>
        assertSafeToServe({ host, authEnabled: false, allowUnauthenticatedNonLoopback: true }),
      ).not.toThrow();
    }
  });
});

describe('malformed credentials', () => {
  it('never throw and never authorize', () => {
    const auth = new Authenticator({ apiKeys: [KEY_A], allowedOrigins: ['https://a.example'] });
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 40 }),
        (authorization, protocols, origin, host) => {
          const headers = { authorization, 'sec-websocket-protocol': protocols, origin, host };
          const upgrade = auth.authorizeUpgrade({ headers });
          const request = auth.authorizeRequest({ headers });
          const presentsKey = authorization.includes(KEY_A) || protocols.includes(KEY_A);
          if (!presentsKey) {
            expect(upgrade.ok).toBe(false);
            expect(request.ok).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
