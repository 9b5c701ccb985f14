import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSliced, sliceForTokenizing } from '../../../src/engine/phi4_session_turns.ts';
import { createTokenizer } from '../../../src/engine/phi4mm/tokenizer.ts';
import { buildFixtureTokenizer } from '../../../src/engine/phi4mm/fixture/tokenizer.ts';

// Long text is tokenized in slices (one engine step each) so it cannot hold the other
// sessions' steps; cutting at the chosen places must give exactly the ids of the whole text.
const fixture = buildFixtureTokenizer();
const tokenizer = createTokenizer(fixture.tokenizerJson, fixture.tokenizerConfigJson);

const pieces = [
  'the',
  ' quick',
  'Brown',
  ' fox',
  "'s",
  ' ',
  '  ',
  '\n',
  '\r\n',
  '\n\n',
  '12',
  '345',
  '.',
  ', ',
  '!?',
  '{"a": 1}',
  'été',
  ' 漢字',
  '😀',
  '\t',
  "don't",
  ' A',
  'ÀB',
];
const text = fc.array(fc.constantFrom(...pieces), { maxLength: 120 }).map((p) => p.join(''));

describe('tokenizing in slices', () => {
  it('slices join to the text; without a hard cut their ids are exactly the whole text ids', () => {
    let checked = 0;
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 48 }), (t, maxChars) => {
        const { slices, hardCuts } = sliceForTokenizing(t, maxChars);
        expect(slices.join('')).toBe(t);
        for (const s of slices.slice(0, -1)) expect(s.length).toBeLessThanOrEqual(maxChars);
        const sliced: number[] = [];
        const steps = [...encodeSliced(tokenizer, t, sliced, maxChars)].length + 1;
        expect(steps).toBe(t.length <= maxChars ? 1 : slices.length);
        expect(tokenizer.decode(sliced, { skipSpecialTokens: false })).toBe(t);
        if (hardCuts === 0) {
          checked++;
          expect(sliced).toEqual(tokenizer.encodeLiteral(t));
        }
      }),
      { numRuns: 400 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('a 128 KiB item becomes many bounded steps', () => {
    const item = 'the quick brown fox jumps over the lazy dog\n'.repeat(3000);
    const ids: number[] = [];
    const steps = [...encodeSliced(tokenizer, item, ids)].length + 1;
    expect(steps).toBeGreaterThanOrEqual(Math.floor(item.length / 4096));
    expect(ids).toEqual(tokenizer.encodeLiteral(item));
  });
});
