import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentenceSplitter, type SplitterBounds } from '../../../src/tts/sentence_splitter.ts';
import { SpeakableText } from '../../../src/tts/speakable_text.ts';

const bounds: SplitterBounds = {
  firstCutMinChars: 40,
  firstCutWaitMs: 300,
  minSentenceChars: 8,
  maxSentenceChars: 120,
};
const words = (s: string) => s.split(/\s+/).filter(Boolean);

function splitAll(text: string, chunkSizes: number[], b = bounds): string[] {
  const splitter = new SentenceSplitter(b);
  const pieces: string[] = [];
  let at = 0;
  for (const size of chunkSizes) {
    if (at >= text.length) break;
    pieces.push(...splitter.push(text.slice(at, at + size), 0));
    at += size;
  }
  pieces.push(...splitter.push(text.slice(at), 0), ...splitter.end());
  return pieces;
}

describe('SentenceSplitter', () => {
  it('cuts later sentences at . ! ? ; and newlines, not at commas or inside numbers', () => {
    const text = 'Sure. It costs 3.50 euros, roughly, today! Shall we go? Yes; now\nNext line here';
    expect(splitAll(text, [text.length])).toEqual([
      'Sure. It costs 3.50 euros, roughly, today!',
      'Shall we go?',
      'Yes; now',
      'Next line here',
    ]);
  });

  it('waits for whitespace after a full stop (the next delta may be "5" of "3.5")', () => {
    const splitter = new SentenceSplitter(bounds);
    expect(splitter.push('The answer is 3.', 0)).toEqual([]);
    expect(splitter.push('5 metres. Then', 0)).toEqual(['The answer is 3.5 metres.']);
    expect(splitter.end()).toEqual(['Then']);
  });

  it('cuts the first sentence early at a clause once it holds 40 characters, later ones not', () => {
    const first = 'Well, the train to Lyon leaves from platform nine, and it takes two hours';
    const splitter = new SentenceSplitter(bounds);
    expect(splitter.push(`${first}, more or less.`, 0)).toEqual(['Well, the train to Lyon leaves from platform nine,']);
    expect(splitter.push(' Then, after a long while, it arrives, at last. Done', 0)).toEqual([
      'and it takes two hours, more or less.',
      'Then, after a long while, it arrives, at last.',
    ]);
  });

  it('cuts the first sentence at a word boundary when 300 ms pass without an end', () => {
    const splitter = new SentenceSplitter(bounds);
    expect(splitter.push('Let me think about', 1000)).toEqual([]);
    expect(splitter.firstCutDueAtMs).toBe(1300);
    expect(splitter.tick(1299)).toEqual([]);
    // "about" may still grow ("abouts"): the cut keeps the last, possibly partial, word back.
    expect(splitter.tick(1300)).toEqual(['Let me think']);
    expect(splitter.firstCutDueAtMs).toBeNull();
    expect(splitter.push(' that for a moment', 5000)).toEqual([]);
    expect(splitter.tick(9999)).toEqual([]); // only the first piece has a deadline
    expect(splitter.end()).toEqual(['about that for a moment']);
  });

  it('keeps a partial word out of a wait-based cut', () => {
    const splitter = new SentenceSplitter(bounds);
    splitter.push('Let me thi', 0);
    expect(splitter.tick(300)).toEqual(['Let me']);
    splitter.push('nk.', 400);
    expect(splitter.end()).toEqual(['thi' + 'nk.']);
  });

  it('cuts text without any end at a word boundary at maxSentenceChars', () => {
    const text = 'word '.repeat(100);
    const pieces = splitAll(text, [7, 13, 500], { ...bounds, maxSentenceChars: 50 });
    expect(pieces.every((p) => p.length <= 50)).toBe(true);
    expect(pieces.every((p) => /^(word ?)+$/.test(p))).toBe(true);
  });

  it('property: any chunking keeps every word in order, pieces bounded and non-empty', () => {
    const token = fc.oneof(
      fc.constantFrom('Hello', 'world', 'Dr.', '3.5', 'yes,', 'no;', 'end.', 'wow!', 'why?', '\n', ' - ', ':', 'x'),
      fc.string({ minLength: 1, maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 40 }),
        fc.integer({ min: 20, max: 200 }),
        (tokens, chunkSizes, maxSentenceChars) => {
          const text = tokens.join(' ');
          const pieces = splitAll(text, chunkSizes, { ...bounds, maxSentenceChars });
          expect(words(pieces.join(' '))).toEqual(words(text));
          for (const p of pieces) {
            expect(p.trim()).toBe(p);
            expect(p.length).toBeGreaterThan(0);
            expect(p.length).toBeLessThanOrEqual(maxSentenceChars);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SpeakableText', () => {
  it('drops markdown marks, code blocks, table rules and tool tokens', () => {
    const speakable = new SpeakableText();
    const lines = [
      '# Your **trip**',
      '- *Day one*: [Lyon](https://x.y/lyon)',
      '```json',
      '{"a": 1}',
      '```',
      '| City | Days |',
      '|---|---|',
      '<|tool_call|>',
      'Use `earshot` now.',
    ];
    expect(lines.map((l) => speakable.clean(l))).toEqual([
      'Your trip',
      'Day one: Lyon',
      '',
      '',
      '',
      'City, Days',
      '',
      '',
      'Use earshot now.',
    ]);
  });
});
