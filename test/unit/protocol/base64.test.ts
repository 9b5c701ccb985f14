import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Audio, decodeBase64Portable, type Base64DecodeResult } from '../../../src/protocol/index.ts';

// Both decoders (Node's Buffer-backed one and the all-JS fallback for browsers) obey the same rules.
const decoders: Array<[string, (text: string) => Base64DecodeResult]> = [
  ['decodeBase64Audio', decodeBase64Audio],
  ['decodeBase64Portable', decodeBase64Portable],
];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function describeDecoder(name: string, decode: (text: string) => Base64DecodeResult): void {
  function decodeOkBytes(text: string): Uint8Array {
    const result = decode(text);
    if (!result.ok) throw new Error(`expected ok for ${JSON.stringify(text.slice(0, 40))}: ${result.message}`);
    return result.bytes;
  }

  function expectInvalid(text: string): void {
    const result = decode(text);
    expect(result.ok, JSON.stringify(text)).toBe(false);
    if (!result.ok) expect(result.code).toBe('E_INVALID_BASE64');
  }

  describe(name, () => {
    it('decodes known vectors (RFC 4648 §10)', () => {
      const vectors: Array<[string, string]> = [
        ['', ''],
        ['Zg==', 'f'],
        ['Zm8=', 'fo'],
        ['Zm9v', 'foo'],
        ['Zm9vYg==', 'foob'],
        ['Zm9vYmE=', 'fooba'],
        ['Zm9vYmFy', 'foobar'],
      ];
      for (const [b64, text] of vectors) {
        expect(Buffer.from(decodeOkBytes(b64)).toString('latin1')).toBe(text);
        expect(Buffer.from(decodeOkBytes(b64.replace(/=+$/, ''))).toString('latin1')).toBe(text);
      }
    });

    it('matches Buffer for every byte array, padded, unpadded and url-safe', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          const padded = Buffer.from(bytes).toString('base64');
          const expected = Buffer.from(padded, 'base64');
          expect(Buffer.from(decodeOkBytes(padded)).equals(expected)).toBe(true);
          expect(Buffer.from(decodeOkBytes(padded.replace(/=+$/, ''))).equals(expected)).toBe(true);
          expect(Buffer.from(decodeOkBytes(Buffer.from(bytes).toString('base64url'))).equals(expected)).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });

    it('agrees with Buffer on any string over the alphabet whose length is valid', () => {
      const alphabetString = fc
        .array(fc.constantFrom(...ALPHABET), { maxLength: 200 })
        .map((chars) => chars.join(''))
        .filter((text) => text.length % 4 !== 1);
      fc.assert(
        fc.property(alphabetString, (text) => {
          expect(Buffer.from(decodeOkBytes(text)).equals(Buffer.from(text, 'base64'))).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });

    it('rejects any character outside the alphabet, wherever it is', () => {
      const outsider = fc
        .oneof(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
          fc.constantFrom(' ', '\n', '\t', '.', '*', '\0', 'é', '😀'),
        )
        .filter((ch) => !ALPHABET.includes(ch) && ch !== '-' && ch !== '_' && ch !== '=');
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 3, maxLength: 60 }), outsider, fc.nat(), (bytes, ch, at) => {
          const valid = Buffer.from(bytes).toString('base64');
          const index = at % valid.length;
          expectInvalid(valid.slice(0, index) + ch + valid.slice(index + 1));
          expectInvalid(valid.slice(0, index) + ch + valid.slice(index));
        }),
        { numRuns: 2000 },
      );
    });

    it('rejects every alphabet string of length 4n+1 and every padded string of length not 4n', () => {
      const alphabetChars = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 120 }).map((chars) => chars.join(''));
      fc.assert(
        fc.property(alphabetChars, fc.constantFrom('=', '=='), (text, pad) => {
          if (text.length % 4 === 1) expectInvalid(text);
          if ((text.length + pad.length) % 4 !== 0) expectInvalid(text + pad);
          else if (text.length % 4 !== 1) expect(decode(text + pad).ok).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });

    it('rejects bad lengths and misplaced padding', () => {
      for (const text of [
        'A',
        'AAAAA',
        'Zg=',
        'Zg===',
        '=',
        '==',
        '====',
        'Zg==Zg==',
        'Z===',
        'Zm9=v',
        'AA=A',
        'A=AA',
      ]) {
        expectInvalid(text);
      }
    });

    it('rejects whitespace and data-URL prefixes that Buffer would skip', () => {
      for (const text of ['Zm9v\nYmFy', ' Zm9v', 'Zm9v ', 'data:audio/pcm;base64,Zm9v']) {
        expectInvalid(text);
        expect(Buffer.from(text, 'base64').length).toBeGreaterThan(0);
      }
    });

    it('says where the bad character is', () => {
      const result = decode('Zm9v!mFy');
      expect(result).toMatchObject({ ok: false, message: expect.stringContaining('offset 4') });
      expect(decode('Zm==Zm9v')).toMatchObject({ ok: false, message: expect.stringContaining("'='") });
    });

    it('decodes 4 MiB of base64 correctly', () => {
      const bytes = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
      const text = Buffer.from(bytes).toString('base64');
      expect(text.length).toBe(4 * 1024 * 1024);
      expect(Buffer.from(decodeOkBytes(text)).equals(Buffer.from(bytes))).toBe(true);
    });

    it('returns a fresh buffer at offset 0 (safe to view as Int16Array)', () => {
      const bytes = decodeOkBytes('AAECAw==');
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(4);
      expect(Array.from(bytes)).toEqual([0, 1, 2, 3]);
    });
  });
}

for (const [name, decode] of decoders) describeDecoder(name, decode);
