// Ids in OpenAI's style ('event_…', 'item_…', 'resp_…', 'sess_…', 'call_…', 'conv_…'): a prefix and 20
// base62 characters. 14 random characters (83 bits, from the Web Crypto RNG so this module also runs in
// the browser client) make ids unique across processes and connections; a 6-character per-process
// counter makes them unique within a process even if the RNG misbehaved. Ids are opaque: clients must
// not parse them, and nothing here depends on their order.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 14;
const COUNTER_CHARS = 6;
const COUNTER_MODULUS = 62 ** COUNTER_CHARS; // 56.8e9 ids before the counter wraps
// 4 KiB of random bytes serve ~250 ids per getRandomValues call (~1 µs each instead of ~1 µs per id).
const POOL_BYTES = 4096;
// Bytes >= 248 are rejected so that `byte % 62` is uniform (248 = 4 * 62).
const UNBIASED_BYTE_LIMIT = 248;

const pool = new Uint8Array(POOL_BYTES);
let poolOffset = POOL_BYTES;
// A random start keeps ids from different processes from sharing a recognisable '000001' tail.
let counter = -1;

function nextRandomByte(): number {
  if (poolOffset >= POOL_BYTES) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = nextRandomByte();
    if (byte < UNBIASED_BYTE_LIMIT) out += BASE62[byte % 62];
  }
  return out;
}

function counterBase62(): string {
  if (counter < 0)
    counter = Math.floor((globalThis.crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32) * COUNTER_MODULUS);
  counter = (counter + 1) % COUNTER_MODULUS;
  let value = counter;
  let out = '';
  for (let i = 0; i < COUNTER_CHARS; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** `prefix` + 20 url-safe characters. */
export function newId(prefix: string): string {
  return prefix + randomBase62(RANDOM_CHARS) + counterBase62();
}

export function newEventId(): string {
  return newId('event_');
}

export function newItemId(): string {
  return newId('item_');
}

export function newResponseId(): string {
  return newId('resp_');
}

export function newSessionId(): string {
  return newId('sess_');
}

export function newCallId(): string {
  return newId('call_');
}

export function newConversationId(): string {
  return newId('conv_');
}
