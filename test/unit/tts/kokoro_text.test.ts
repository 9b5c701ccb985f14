import { describe, expect, it } from 'vitest';
import { normalizeText, integerToWords } from '../../../src/tts/kokoro/normalize.ts';
import { splitSentences } from '../../../src/tts/kokoro/sentences.ts';
import { phonemize, splitClauses, toKokoroPhonemes } from '../../../src/tts/kokoro/phonemize.ts';
import { padIds, parseVocab, splitPhonemes, styleRowIndex, tokenize } from '../../../src/tts/kokoro/tokenizer.ts';
import { fixtureTokenizerJson } from '../../../src/tts/kokoro/fixture/generate.ts';
import { isEarshotError } from '../../../src/errors.ts';

const vocab = parseVocab(JSON.stringify(fixtureTokenizerJson()), 'tokenizer.json');

describe('Kokoro text normaliser', () => {
  it('spells out numbers, money, times, percentages, ordinals and titles', () => {
    expect(integerToWords(0)).toBe('zero');
    expect(integerToWords(1_234_567)).toBe('one million two hundred thirty-four thousand five hundred sixty-seven');
    expect(normalizeText('It costs $5.50.')).toBe('It costs five dollars and fifty cents.');
    expect(normalizeText('$1 or $0.99 or £3')).toBe('one dollar or ninety-nine cents or three pounds');
    expect(normalizeText('$2 million')).toBe('two million dollars');
    expect(normalizeText('Meet at 3:05 pm.')).toBe('Meet at three oh five P M.');
    expect(normalizeText('At 10:00 sharp, 7:30 a.m. too')).toBe("At ten o'clock sharp, seven thirty A M too");
    expect(normalizeText('Dr. Smith and Mrs. Jones')).toBe('Doctor Smith and Missus Jones');
    expect(normalizeText('50% of 1,200 on the 21st, pi is 3.14')).toBe(
      'fifty percent of one thousand two hundred on the twenty-first, pi is three point one four',
    );
  });

  it('cuts sentences after their marks but not inside numbers', () => {
    expect(splitSentences('Hello there. How are you? I am "fine." Yes 3.5 it is! End')).toEqual([
      'Hello there.',
      'How are you?',
      'I am "fine."',
      'Yes 3.5 it is!',
      'End',
    ]);
    expect(splitSentences(' ... ')).toEqual([]);
  });

  it('keeps clause punctuation and maps espeak diphthongs to Kokoro letters', async () => {
    expect(splitClauses('Hello, world. Fine')).toEqual([
      { text: 'Hello', punctuation: ',' },
      { text: 'world', punctuation: '.' },
      { text: 'Fine', punctuation: '' },
    ]);
    expect(toKokoroPhonemes('həlˈoʊ wˈaɪ dʒˈʌmp')).toBe('həlˈO wˈI ʤˈʌmp');
    const phonemes = await phonemize('Hello, world. How are you?');
    expect(phonemes).toMatch(/^h.*l.*O, w.*ld\. h.*W .*\?$/u);
  });
});

describe('Kokoro tokens', () => {
  it('drops symbols the vocabulary lacks and never takes the pad from text', () => {
    const { ids, dropped } = tokenize('hə$lˈO#', vocab);
    expect(ids).toEqual([50, 83, 54, 156, 31]);
    expect(dropped).toBe(2);
  });

  it('pads both ends with id 0', () => {
    expect([...padIds([50, 83])]).toEqual([0n, 50n, 83n, 0n]);
    expect(() => padIds(new Array(511).fill(50))).toThrow();
  });

  it('splits long phoneme strings at word boundaries within the bound', () => {
    const words = Array.from({ length: 40 }, (_, i) => 'abcdefgh'.slice(0, 3 + (i % 5)));
    const parts = splitPhonemes(words.join(' '), 30);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect([...p].length).toBeLessThanOrEqual(30);
    expect(parts.join(' ')).toBe(words.join(' '));
    // One word longer than the bound is cut inside the word.
    expect(splitPhonemes('x'.repeat(70), 30)).toEqual(['x'.repeat(30), 'x'.repeat(30), 'x'.repeat(10)]);
  });

  it('chooses the style row min(max(T-2, 0), 509)', () => {
    expect(styleRowIndex(0)).toBe(0);
    expect(styleRowIndex(2)).toBe(0);
    expect(styleRowIndex(3)).toBe(1);
    expect(styleRowIndex(512)).toBe(509);
    expect(styleRowIndex(900)).toBe(509);
  });

  it('rejects a tokenizer.json without a vocabulary', () => {
    for (const bad of ['{', '{"model":{}}', '{"model":{"vocab":{"a":-1}}}', '{"model":{"vocab":{}}}']) {
      let caught: unknown;
      try {
        parseVocab(bad, 'x/tokenizer.json');
      } catch (err) {
        caught = err;
      }
      expect(isEarshotError(caught) && caught.code).toBe('E_MODEL_INVALID');
    }
  });
});
