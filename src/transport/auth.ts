import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthConfig } from '../config/auth_limits_store_schema.ts';
import { apiKeySchema } from '../config/auth_limits_store_schema.ts';
import { EarshotError } from '../errors.ts';

/** Who a request acts for. `keyId` is a stable, non-secret name of the API key (for limits, logs, the store). */
export interface AuthIdentity {
  kind: 'api_key' | 'ephemeral' | 'anonymous';
  keyId: string;
  /** For ephemeral keys: the session configuration given when the key was minted, and its expiry. */
  ephemeral?: { session: unknown; expiresAtS: number };
}

export type AuthDecision =
  | { ok: true; identity: AuthIdentity }
  | { ok: false; status: 401 | 403; code: 'E_UNAUTHORIZED' | 'E_FORBIDDEN_ORIGIN'; message: string };

/** Anything with request headers: an http IncomingMessage, or the ws upgrade request. */
export interface RequestLike {
  headers: IncomingHttpHeaders;
}

export interface AuthenticatorOptions {
  /** Plain keys; only their SHA-256 hashes are kept. */
  apiKeys: readonly string[];
  allowedOrigins?: readonly string[];
  ephemeralKeyTtlS?: number;
  maxEphemeralKeys?: number;
  /** Per minting key: unexpired ephemeral keys, and bytes of their presets. */
  maxEphemeralKeysPerKey?: number;
  maxEphemeralBytesPerKey?: number;
  /** Bytes of presets over all unexpired ephemeral keys. */
  maxEphemeralBytesTotal?: number;
  /** Largest preset (session configuration JSON) one ephemeral key may carry, in bytes. */
  maxEphemeralPresetBytes?: number;
  /** Wall clock in ms (injectable so expiry is tested without waiting). */
  nowMs?: () => number;
}

export interface EphemeralKey {
  value: string;
  expiresAtS: number;
}

export const SUBPROTOCOL_KEY_PREFIX = 'openai-insecure-api-key.';
export const EPHEMERAL_KEY_PREFIX = 'ek_';
export const ANONYMOUS_KEY_ID = 'anonymous';
const MIN_EPHEMERAL_TTL_S = 10;
const MAX_EPHEMERAL_TTL_S = 7200;

/** Bytes an ephemeral key costs besides its preset (digest, map entry, owner id): counted against its owner. */
export const EPHEMERAL_ENTRY_OVERHEAD_BYTES = 256;

interface EphemeralEntry {
  hash: Buffer;
  ownerKeyId: string;
  expiresAtMs: number;
  /** The preset as compact JSON (parsed at use): its size is exactly what it holds, and what is counted. */
  presetJson: string | null;
  bytes: number;
}

/** What one minting key holds in unexpired ephemeral keys. */
interface OwnerUsage {
  keys: number;
  bytes: number;
}

/**
 * API keys, ephemeral keys and the origin allowlist. Keys are held as SHA-256 digests and compared with
 * crypto.timingSafeEqual against every configured digest (no early exit), so neither the key nor which
 * key matched leaks through timing; comparing fixed-length digests also hides the presented key's length.
 */
export class Authenticator {
  private readonly keyHashes: { hash: Buffer; keyId: string }[];
  private readonly origins: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly ephemeral = new Map<string, EphemeralEntry>();
  private readonly nowMs: () => number;
  readonly ephemeralKeyTtlS: number;
  private readonly maxEphemeralKeys: number;
  private readonly maxPerKey: number;
  private readonly maxBytesPerKey: number;
  private readonly maxBytesTotal: number;
  readonly maxPresetBytes: number;
  private readonly usage = new Map<string, OwnerUsage>();
  private ephemeralBytes = 0;

  constructor(opts: AuthenticatorOptions) {
    this.keyHashes = [...new Set(opts.apiKeys)].map((key) => ({ hash: hashKey(key), keyId: keyIdOf(key) }));
    const origins = opts.allowedOrigins ?? [];
    this.anyOrigin = origins.includes('*');
    this.origins = new Set(
      origins
        .filter((o) => o !== '*')
        .map(normalizeOrigin)
        .filter((o): o is string => o !== null),
    );
    this.nowMs = opts.nowMs ?? Date.now;
    this.ephemeralKeyTtlS = opts.ephemeralKeyTtlS ?? 600;
    this.maxEphemeralKeys = opts.maxEphemeralKeys ?? 10_000;
    this.maxPerKey = opts.maxEphemeralKeysPerKey ?? 1000;
    this.maxBytesPerKey = opts.maxEphemeralBytesPerKey ?? 16 * 1024 * 1024;
    this.maxBytesTotal = opts.maxEphemeralBytesTotal ?? 128 * 1024 * 1024;
    this.maxPresetBytes = opts.maxEphemeralPresetBytes ?? 96 * 1024;
  }

  /** From the `auth` config section plus EARSHOT_API_KEYS (comma-separated). */
  static fromConfig(auth: AuthConfig, env: NodeJS.ProcessEnv = process.env, nowMs?: () => number): Authenticator {
    return new Authenticator({
      apiKeys: collectApiKeys(auth.api_keys, env.EARSHOT_API_KEYS),
      allowedOrigins: auth.allowed_origins,
      ephemeralKeyTtlS: auth.ephemeral_key_ttl_s,
      maxEphemeralKeys: auth.max_ephemeral_keys,
      maxEphemeralKeysPerKey: auth.max_ephemeral_keys_per_key,
      maxEphemeralBytesPerKey: auth.max_ephemeral_bytes_per_key,
      maxEphemeralBytesTotal: auth.max_ephemeral_bytes_total,
      maxEphemeralPresetBytes: auth.max_ephemeral_preset_bytes,
      nowMs,
    });
  }

  /** True when at least one API key is configured; otherwise every request is let in (loopback only, see assertSafeToServe). */
  get enabled(): boolean {
    return this.keyHashes.length > 0;
  }

  get keyCount(): number {
    return this.keyHashes.length;
  }

  /**
   * For the WebSocket upgrade (and the WebRTC offer): the origin must be allowed (403), then a key is
   * needed (401) as `Authorization: Bearer`, or as the `openai-insecure-api-key.<key>` subprotocol that
   * browsers use; API keys and unexpired ephemeral keys are both accepted.
   */
  authorizeUpgrade(req: RequestLike): AuthDecision {
    return this.authorize(req, [bearerToken(req.headers), subprotocolKey(req.headers)], true);
  }

  /**
   * For the HTTP API: origin check, then `Authorization: Bearer <key>`. Ephemeral keys are refused unless
   * allowEphemeral (they are meant for starting one realtime session, e.g. POST /v1/realtime/calls, not
   * for reading transcripts or minting more keys).
   */
  authorizeRequest(req: RequestLike, opts: { allowEphemeral?: boolean } = {}): AuthDecision {
    return this.authorize(req, [bearerToken(req.headers)], opts.allowEphemeral ?? false);
  }

  /** Browser origin allowed? No Origin header (non-browser client) and same-origin requests always are. */
  originAllowed(headers: IncomingHttpHeaders): boolean {
    const origin = headers.origin;
    if (origin === undefined) return true;
    if (this.anyOrigin) return true;
    const normalized = normalizeOrigin(origin);
    if (normalized === null) return this.origins.has(origin);
    if (this.origins.has(normalized)) return true;
    const host = headers.host;
    return host !== undefined && new URL(normalized).host === host.toLowerCase();
  }

  /**
   * Mints an ephemeral key for `owner` (it counts against the owner's per-key limits). `ttlS` outside
   * 10..7200 s is refused like OpenAI does; the session configuration is handed back on use.
   */
  issueEphemeralKey(owner: AuthIdentity, opts: { ttlS?: number; session?: unknown } = {}): EphemeralKey {
    if (owner.kind === 'ephemeral')
      throw new EarshotError('E_UNAUTHORIZED', 'An ephemeral key cannot mint other keys.');
    const ttlS = opts.ttlS ?? this.ephemeralKeyTtlS;
    if (!Number.isInteger(ttlS) || ttlS < MIN_EPHEMERAL_TTL_S || ttlS > MAX_EPHEMERAL_TTL_S) {
      throw new EarshotError(
        'E_INVALID_REQUEST',
        `expires_after.seconds must be an integer from ${MIN_EPHEMERAL_TTL_S} to ${MAX_EPHEMERAL_TTL_S}.`,
        {
          param: 'expires_after.seconds',
        },
      );
    }
    const presetJson = opts.session === undefined || opts.session === null ? null : JSON.stringify(opts.session);
    const presetBytes = presetJson === null ? 0 : Buffer.byteLength(presetJson);
    if (presetBytes > this.maxPresetBytes) {
      throw new EarshotError(
        'E_PAYLOAD_TOO_LARGE',
        `The session configuration is ${presetBytes} bytes; an ephemeral key may carry at most ${this.maxPresetBytes} (auth.max_ephemeral_preset_bytes).`,
        { param: 'session' },
      );
    }
    const bytes = presetBytes + EPHEMERAL_ENTRY_OVERHEAD_BYTES;
    if (this.mintRefusal(owner.keyId, bytes) !== null) this.pruneExpired();
    const refusal = this.mintRefusal(owner.keyId, bytes);
    if (refusal !== null) throw refusal;
    const value = EPHEMERAL_KEY_PREFIX + randomBytes(24).toString('base64url');
    const hash = hashKey(value);
    const expiresAtMs = this.nowMs() + ttlS * 1000;
    this.ephemeral.set(hash.toString('hex'), { hash, ownerKeyId: owner.keyId, expiresAtMs, presetJson, bytes });
    const used = this.usageOf(owner.keyId);
    this.usage.set(owner.keyId, { keys: used.keys + 1, bytes: used.bytes + bytes });
    this.ephemeralBytes += bytes;
    return { value, expiresAtS: Math.floor(expiresAtMs / 1000) };
  }

  /** Unexpired ephemeral keys currently held (after dropping expired ones). */
  get ephemeralKeyCount(): number {
    this.pruneExpired();
    return this.ephemeral.size;
  }

  /** Unexpired ephemeral keys minted by `keyId` and the bytes they hold (after dropping expired ones). */
  ephemeralUsageOf(keyId: string): { keys: number; bytes: number } {
    this.pruneExpired();
    return { ...this.usageOf(keyId) };
  }

  /** Bytes held by all unexpired ephemeral keys (presets plus per-key overhead). */
  get ephemeralBytesHeld(): number {
    return this.ephemeralBytes;
  }

  /** Why minting one more key of `bytes` for `ownerKeyId` is refused now, or null. */
  private mintRefusal(ownerKeyId: string, bytes: number): EarshotError | null {
    const used = this.usageOf(ownerKeyId);
    if (used.keys >= this.maxPerKey) {
      return new EarshotError(
        'E_EPHEMERAL_KEY_QUOTA',
        `This API key holds ${used.keys} unexpired ephemeral keys, its limit (auth.max_ephemeral_keys_per_key); retry when some expire.`,
        { retryable: true },
      );
    }
    if (used.bytes + bytes > this.maxBytesPerKey) {
      return new EarshotError(
        'E_EPHEMERAL_KEY_QUOTA',
        `This API key's unexpired ephemeral keys hold ${used.bytes} bytes; ${bytes} more would pass its limit of ${this.maxBytesPerKey} (auth.max_ephemeral_bytes_per_key).`,
        { retryable: true },
      );
    }
    if (this.ephemeral.size >= this.maxEphemeralKeys || this.ephemeralBytes + bytes > this.maxBytesTotal) {
      return new EarshotError(
        'E_CAPACITY',
        `Too many unexpired ephemeral keys on this server (limit ${this.maxEphemeralKeys} keys, ${this.maxBytesTotal} bytes); retry later.`,
        { retryable: true },
      );
    }
    return null;
  }

  private usageOf(keyId: string): OwnerUsage {
    return this.usage.get(keyId) ?? { keys: 0, bytes: 0 };
  }

  /** Removes an entry and gives its count and bytes back to its owner. */
  private forget(id: string, entry: EphemeralEntry): void {
    this.ephemeral.delete(id);
    this.ephemeralBytes -= entry.bytes;
    const used = this.usageOf(entry.ownerKeyId);
    if (used.keys <= 1) this.usage.delete(entry.ownerKeyId);
    else this.usage.set(entry.ownerKeyId, { keys: used.keys - 1, bytes: used.bytes - entry.bytes });
  }

  private authorize(req: RequestLike, presented: (string | null)[], allowEphemeral: boolean): AuthDecision {
    if (!this.originAllowed(req.headers)) {
      return {
        ok: false,
        status: 403,
        code: 'E_FORBIDDEN_ORIGIN',
        message: 'This origin is not allowed (auth.allowed_origins).',
      };
    }
    const keys = presented.filter((k): k is string => k !== null && k !== '');
    if (!this.enabled) return { ok: true, identity: { kind: 'anonymous', keyId: ANONYMOUS_KEY_ID } };
    if (keys.length === 0) {
      return {
        ok: false,
        status: 401,
        code: 'E_UNAUTHORIZED',
        message:
          'Missing API key: send "Authorization: Bearer <key>" (or the openai-insecure-api-key.<key> subprotocol).',
      };
    }
    let expired = false;
    for (const key of keys) {
      if (key.startsWith(EPHEMERAL_KEY_PREFIX)) {
        if (!allowEphemeral) continue;
        const found = this.lookupEphemeral(key);
        if (found === 'expired') expired = true;
        else if (found) return { ok: true, identity: found };
        continue;
      }
      const keyId = this.matchApiKey(key);
      if (keyId !== null) return { ok: true, identity: { kind: 'api_key', keyId } };
    }
    const message = expired
      ? 'The ephemeral key has expired; request a new one.'
      : keys.some((k) => k.startsWith(EPHEMERAL_KEY_PREFIX)) && !allowEphemeral
        ? 'Ephemeral keys are not accepted here; use an API key.'
        : 'Invalid API key.';
    return { ok: false, status: 401, code: 'E_UNAUTHORIZED', message };
  }

  /** Compares against every configured digest, always, so timing says nothing about which (if any) matched. */
  private matchApiKey(key: string): string | null {
    const presented = hashKey(key);
    let matched: string | null = null;
    for (const entry of this.keyHashes) {
      if (timingSafeEqual(entry.hash, presented) && matched === null) matched = entry.keyId;
    }
    return matched;
  }

  private lookupEphemeral(key: string): AuthIdentity | 'expired' | null {
    const presented = hashKey(key);
    // The map is keyed by digest (random 192-bit keys: the lookup leaks nothing usable); the final check is
    // still constant time.
    const entry = this.ephemeral.get(presented.toString('hex'));
    if (!entry || !timingSafeEqual(entry.hash, presented)) return null;
    if (this.nowMs() >= entry.expiresAtMs) {
      this.forget(presented.toString('hex'), entry);
      return 'expired';
    }
    const session: unknown = entry.presetJson === null ? null : JSON.parse(entry.presetJson);
    return {
      kind: 'ephemeral',
      keyId: entry.ownerKeyId,
      ephemeral: { session, expiresAtS: Math.floor(entry.expiresAtMs / 1000) },
    };
  }

  private pruneExpired(): void {
    const now = this.nowMs();
    for (const [id, entry] of this.ephemeral) if (now >= entry.expiresAtMs) this.forget(id, entry);
  }
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Stable non-secret id of a key: a domain-separated digest prefix (48 bits), safe to log and store. */
export function keyIdOf(key: string): string {
  return (
    'key_' +
    createHash('sha256')
      .update('earshot-key-id\0' + key, 'utf8')
      .digest('hex')
      .slice(0, 12)
  );
}

/**
 * Config keys plus EARSHOT_API_KEYS (comma-separated, blanks ignored), validated like the config schema;
 * an invalid env key throws E_CONFIG_INVALID naming its position, never its value.
 */
export function collectApiKeys(configKeys: readonly string[], envValue: string | undefined): string[] {
  const fromEnv = (envValue ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const problems: string[] = [];
  fromEnv.forEach((key, i) => {
    const parsed = apiKeySchema.safeParse(key);
    if (!parsed.success)
      problems.push(`EARSHOT_API_KEYS entry ${i + 1}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  });
  if (problems.length > 0) throw new EarshotError('E_CONFIG_INVALID', problems.join('\n'));
  return [...new Set([...configKeys, ...fromEnv])];
}

export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const value = headers.authorization;
  if (!value) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value);
  return match ? match[1] : null;
}

export function subprotocolKey(headers: IncomingHttpHeaders): string | null {
  const header = headers['sec-websocket-protocol'];
  if (!header) return null;
  for (const part of header.split(',')) {
    const protocol = part.trim();
    if (protocol.startsWith(SUBPROTOCOL_KEY_PREFIX)) return protocol.slice(SUBPROTOCOL_KEY_PREFIX.length);
  }
  return null;
}

function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? null : url.origin.toLowerCase();
  } catch {
    return null;
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form) and `localhost`; 0.0.0.0 and :: listen on every interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return LOOPBACK.check(h, 'ipv4');
  if (isIP(h) === 6) return LOOPBACK.check(h, 'ipv6');
  return false;
}

/**
 * Start-up rule: without API keys the server may listen only on a loopback address unless
 * allow_unauthenticated_non_loopback is set. Throws E_CONFIG_INVALID with the ways out.
 */
export function assertSafeToServe(opts: {
  host: string;
  authEnabled: boolean;
  allowUnauthenticatedNonLoopback: boolean;
}): void {
  if (opts.authEnabled || opts.allowUnauthenticatedNonLoopback || isLoopbackHost(opts.host)) return;
  throw new EarshotError(
    'E_CONFIG_INVALID',
    `Refusing to serve without authentication on ${opts.host}, which is reachable from the network. ` +
      'Set API keys (auth.api_keys or EARSHOT_API_KEYS=key1,key2), or listen on 127.0.0.1, ' +
      'or set auth.allow_unauthenticated_non_loopback=true to serve unauthenticated anyway.',
  );
}

/**
 * The raw HTTP response that refuses a WebSocket upgrade (written to the socket before destroying it).
 * The JSON body carries the error code so clients that expose it (ws's 'unexpected-response') can show why.
 */
export function upgradeRefusal(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): string {
  const reason =
    {
      401: 'Unauthorized',
      403: 'Forbidden',
      421: 'Misdirected Request',
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    }[status] ?? 'Error';
  const body = JSON.stringify({ error: { type: 'invalid_request_error', code, message } });
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const auth = status === 401 ? 'WWW-Authenticate: Bearer realm="earshot"\r\n' : '';
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n${auth}${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
