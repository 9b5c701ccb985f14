// A small byte-level BPE tokenizer in the Hugging Face tokenizer.json format with Phi-4-mm's real
// added-token ids. The tiny fixture model ships it so that the real loading code (same library, same
// pre-tokenizer structure, same special-token handling) runs in tests. Its merges are learned from a
// fixed corpus, so the output is deterministic and words the tests use become multi-byte tokens.

import { byteToUnicode } from './tokenizer_bytes.ts';
import { PHI4MM_ADDED_TOKENS } from './tokenizer_ids.ts';

/** The o200k_base split pattern as it appears in GPT-4o style tokenizer.json files (Oniguruma syntax). */
export const O200K_SPLIT_PATTERN = [
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|');

const FIXTURE_MERGE_COUNT = 320;

const TRAINING_CORPUS = [
  'Transcribe the audio clip into text. Translate the audio to French. Translate the audio to German.',
  'Transcribe the audio to text, and then translate the audio to Spanish. Use <sep> as a separator',
  'between the original transcript and the translation. Summarize the conversation in a few sentences.',
  'You are a helpful assistant. The weather in Paris is sunny today, and the temperature is 21 degrees.',
  'Hello, how can I help you? I would like to book a train from London to Edinburgh on Monday morning.',
  'The quick brown fox jumps over the lazy dog. Thank you for calling, please hold the line.',
  'get_weather city country description parameters default type str int float bool name arguments',
  '{"name": "get_weather", "arguments": {"city": "Paris"}} [{"name": "search", "parameters": {}}]',
  'Bonjour, je voudrais réserver une table. Guten Tag, wie geht es Ihnen? ¿Dónde está la estación?',
  'Numbers 0 1 2 3 4 5 6 7 8 9 10 100 2024 3.14 — quotes “like this” and emoji 🙂 too.',
].join('\n');

// Training-time split only; it approximates the o200k pattern in JavaScript syntax (Node 20 lacks `(?i:)`).
const TRAINING_SPLIT =
  /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

function learnMerges(corpus: string, mergeCount: number): [string, string][] {
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const match of corpus.matchAll(TRAINING_SPLIT)) {
    wordCounts.set(match[0], (wordCounts.get(match[0]) ?? 0) + 1);
  }
  // Each word as a list of byte-level symbols, with its frequency.
  const words = [...wordCounts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([word, count]) => ({ symbols: [...encoder.encode(word)].map(byteToUnicode), count }));
  const merges: [string, string][] = [];
  for (let m = 0; m < mergeCount; m++) {
    const pairCounts = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const key = `${w.symbols[i]}\u0000${w.symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + w.count);
      }
    }
    let bestKey: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && bestKey !== undefined && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey === undefined) break;
    const [left, right] = bestKey.split('\u0000') as [string, string];
    merges.push([left, right]);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === left && w.symbols[i + 1] === right) {
          next.push(left + right);
          i++;
        } else {
          next.push(w.symbols[i]);
        }
      }
      w.symbols = next;
    }
  }
  return merges;
}

let cached: { tokenizerJson: object; tokenizerConfigJson: object } | undefined;

/** Deterministic tokenizer.json + tokenizer_config.json objects for the fixture model (fresh copies). */
export function buildFixtureTokenizer(): { tokenizerJson: object; tokenizerConfigJson: object } {
  cached ??= build();
  return structuredClone(cached);
}

function build(): { tokenizerJson: object; tokenizerConfigJson: object } {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteToUnicode(b)] = b;
  const merges = learnMerges(TRAINING_CORPUS, FIXTURE_MERGE_COUNT);
  let nextId = 256;
  for (const [left, right] of merges) {
    if (vocab[left + right] === undefined) vocab[left + right] = nextId++;
  }
  for (const t of PHI4MM_ADDED_TOKENS) vocab[t.content] = t.id;

  const addedTokens = PHI4MM_ADDED_TOKENS.map((t) => ({
    id: t.id,
    content: t.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: t.special,
  }));

  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: O200K_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };

  const addedTokensDecoder: Record<string, object> = {};
  for (const t of addedTokens) {
    const { id, ...rest } = t;
    addedTokensDecoder[String(id)] = rest;
  }
  const tokenizerConfigJson = {
    add_bos_token: false,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    clean_up_tokenization_spaces: false,
    model_max_length: 131072,
    tokenizer_class: 'GPT2Tokenizer',
    chat_template:
      "{% for message in messages %}{% if message['role'] == 'system' and 'tools' in message and message['tools'] is not none %}" +
      "{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + '<|/tool|>' + '<|end|>' }}" +
      "{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endif %}{% endfor %}" +
      "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}",
  };
  return { tokenizerJson, tokenizerConfigJson };
}
