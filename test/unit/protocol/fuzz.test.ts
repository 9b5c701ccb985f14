import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/errors.ts';
import { CLIENT_EVENT_TYPES, decodeClientEvent, type DecodeResult } from '../../../src/protocol/index.ts';
import { VALID_CLIENT_EVENTS } from './fixtures.ts';

const RUNS = 2000;
const DECODE_CODES = new Set(['E_INVALID_JSON', 'E_INVALID_EVENT', 'E_UNKNOWN_EVENT']);
const SEEDS = Object.values(VALID_CLIENT_EVENTS).flat();

/** Decodes and checks the invariants every result must satisfy; returns the result for more checks. */
function decodeChecked(text: string): DecodeResult {
  let result: DecodeResult | undefined;
  expect(() => {
    result = decodeClientEvent(text);
  }).not.toThrow();
  const decoded = result as DecodeResult;
  if (decoded.ok) {
    expect(CLIENT_EVENT_TYPES).toContain(decoded.event.type);
    // A decoded event re-encodes to something that decodes to the same event.
    const again = decodeClientEvent(JSON.stringify(decoded.event));
    expect(again).toEqual(decoded);
  } else {
    expect(Object.hasOwn(ERROR_CODES, decoded.code)).toBe(true);
    expect(DECODE_CODES.has(decoded.code)).toBe(true);
    expect(typeof decoded.message).toBe('string');
    expect(decoded.message.length).toBeGreaterThan(0);
    // Messages quote at most a bounded slice of client text, whatever the input size.
    expect(decoded.message.length).toBeLessThan(4000);
    if (decoded.param !== undefined) {
      expect(decoded.param).not.toBe('');
      expect(decoded.message).toContain(decoded.param);
    }
  }
  return decoded;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Applies one structural mutation at a pseudo-random place chosen by `choices`. */
function mutate(value: Json, choices: number[], replacement: Json, depth = 0): Json {
  const choice = choices[depth % choices.length] ?? 0;
  if (Array.isArray(value) && value.length > 0) {
    const copy = [...value];
    const index = choice % copy.length;
    if (choice % 5 === 0) copy.splice(index, 1);
    else if (choice % 5 === 1) copy[index] = replacement;
    else copy[index] = mutate(copy[index], choices, replacement, depth + 1);
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const copy: { [key: string]: Json } = { ...value };
    if (keys.length === 0 || choice % 7 === 6) {
      copy[`k${choice % 3}`] = replacement;
      return copy;
    }
    const key = keys[choice % keys.length];
    if (choice % 7 === 0) delete copy[key];
    else if (choice % 7 === 1) copy[key] = replacement;
    else copy[key] = mutate(copy[key], choices, replacement, depth + 1);
    return copy;
  }
  return replacement;
}

describe('decodeClientEvent never throws', () => {
  it('on arbitrary strings (full unicode, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(decodeChecked(text).ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        decodeChecked(JSON.stringify(value) ?? 'null');
      }),
      { numRuns: RUNS },
    );
  });

  it('on objects with a known type and random fields, keeping a string event_id', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CLIENT_EVENT_TYPES),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (type, fields, eventId) => {
          const event = { ...fields, type, ...(eventId === undefined ? {} : { event_id: eventId }) };
          const result = decodeChecked(JSON.stringify(event));
          if (!result.ok) {
            expect(result.code).not.toBe('E_UNKNOWN_EVENT');
            expect(result.clientEventId).toBe(eventId);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('on mutated valid events', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 8 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, choices, replacement, rounds) => {
          let event = seed as Json;
          for (let i = 0; i < rounds; i++) event = mutate(event, choices.slice(i), replacement as Json);
          decodeChecked(JSON.stringify(event));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('on truncated and spliced valid event text', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.nat(),
        fc.string({ unit: 'binary', maxLength: 4 }),
        (seed, at, junk) => {
          const text = JSON.stringify(seed);
          const index = at % (text.length + 1);
          decodeChecked(text.slice(0, index));
          decodeChecked(text.slice(0, index) + junk + text.slice(index));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('on hostile shapes: deep nesting, prototype keys, huge types and ids', () => {
    const depth = 50_000;
    const deepArray = '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const cases = [
      deepArray,
      deepObject,
      `{"type":"session.update","session":{"tools":[{"name":"t","parameters":{"p":${deepArray}}}]}}`,
      `{"type":"session.update","session":{"unknown":${deepObject}}}`,
      `{"type":"conversation.item.create","item":{"type":"message","role":"user","content":${deepArray}}}`,
      '{"type":"__proto__"}',
      '{"type":"constructor"}',
      '{"type":"toString"}',
      '{"__proto__":{"type":"response.cancel"}}',
      '{"type":"response.cancel","__proto__":{"event_id":5}}',
      `{"type":"${'x'.repeat(100_000)}"}`,
      `{"type":"response.cancel","event_id":"${'e'.repeat(100_000)}"}`,
      `{"type":"response.create","response":{"input":[${Array(20_000).fill('{"type":"item_reference"}').join(',')}]}}`,
    ];
    for (const text of cases) decodeChecked(text);
    expect(decodeClientEvent('{"__proto__":{"type":"response.cancel"}}')).toMatchObject({
      ok: false,
      code: 'E_INVALID_EVENT',
    });
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });
});
