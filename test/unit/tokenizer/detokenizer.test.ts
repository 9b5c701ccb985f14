import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingDetokenizer } from '../../../src/engine/phi4mm/detokenizer.ts';
import { buildFixtureTokenizer } from '../../../src/engine/phi4mm/fixture/tokenizer.ts';
import { createTokenizer } from '../../../src/engine/phi4mm/tokenizer.ts';
import { PHI4MM_ADDED_TOKENS } from '../../../src/engine/phi4mm/tokenizer_ids.ts';

const fixture = buildFixtureTokenizer();
const tokenizer = createTokenizer(fixture.tokenizerJson, fixture.tokenizerConfigJson);
const vocabIds = Object.values((fixture.tokenizerJson as { model: { vocab: Record<string, number> } }).model.vocab);
// Any id the model could emit: byte tokens (which split UTF-8 characters), merges, added tokens, unknown gaps.
const anyId = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(...vocabIds),
  fc.constantFrom(...PHI4MM_ADDED_TOKENS.map((t) => t.id)),
  fc.integer({ min: 0, max: 200063 }),
);

function stream(ids: number[]): string[] {
  const detok = new StreamingDetokenizer(tokenizer);
  const deltas = ids.map((id) => detok.push(id));
  deltas.push(detok.flush());
  return deltas;
}

const isLoneHalf = (s: string): boolean => /[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/.test(s);

describe('StreamingDetokenizer', () => {
  it('concatenated deltas equal the full decode for any id sequence', () => {
    fc.assert(
      fc.property(fc.array(anyId, { maxLength: 60 }), (ids) => {
        expect(stream(ids).join('')).toBe(tokenizer.decode(ids));
      }),
      { numRuns: 500, seed: 1 },
    );
  });

  it('never emits part of a character: deltas of valid text contain no U+FFFD or lone surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        // Feed the text byte by byte (the worst split) and as BPE tokens.
        const byteIds = [...new TextEncoder().encode(text)];
        for (const ids of [byteIds, tokenizer.encodeLiteral(text)]) {
          const deltas = stream(ids);
          expect(deltas.join('')).toBe(text);
          for (const d of deltas) {
            expect(d.includes('\uFFFD')).toBe(false);
            expect(isLoneHalf(d)).toBe(false);
          }
        }
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  it('holds an emoji until its last byte arrives', () => {
    const bytes = [...new TextEncoder().encode('a🙂')];
    const detok = new StreamingDetokenizer(tokenizer);
    expect(bytes.map((b) => detok.push(b))).toEqual(['a', '', '', '', '🙂']);
    expect(detok.flush()).toBe('');
  });

  it('skips special tokens and keeps tool tokens', () => {
    const detok = new StreamingDetokenizer(tokenizer);
    expect(detok.push(200020)).toBe('');
    expect(detok.push(200025)).toBe('<|tool_call|>');
  });
});
