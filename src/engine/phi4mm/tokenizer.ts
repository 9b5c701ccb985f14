// Phi-4-mm tokenizer: the variant's own tokenizer.json through @huggingface/tokenizers for encoding,
// plus a byte view of every token so that decoding (whole or streamed) never depends on where a
// multi-byte UTF-8 character was split between tokens.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { EarshotError } from '../../errors.ts';
import { byteLevelStringToBytes } from './tokenizer_bytes.ts';
import { PHI4MM_ADDED_TOKENS, PHI4MM_LAST_REAL_TOKEN_ID } from './tokenizer_ids.ts';

export interface DecodeOptions {
  /** Drop tokens marked special (`<|end|>`, `<|user|>`...). Tool tokens are non-special and stay. Default true. */
  skipSpecialTokens?: boolean;
}

/** Texts up to this long have their ids cached (task prompts, instructions), at most this many of them. */
const ENCODE_CACHE_MAX_CHARS = 4096;
const ENCODE_CACHE_ENTRIES = 256;

export interface Phi4Tokenizer {
  /** Encode text; added-token strings in it (`<|end|>`, `<|endoftext11|>`...) become their ids. */
  encode(text: string): number[];
  /** Encode untrusted text: added-token strings are tokenised as ordinary characters (no injection). */
  encodeLiteral(text: string): number[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** UTF-8 bytes the token contributes to decoded text (empty for unknown ids). */
  tokenBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
  idOf(token: string): number | undefined;
  /** Highest id of a real token; logit columns above it are padding and must be masked. */
  readonly maxRealTokenId: number;
  /**
   * [start, end) ranges of ids at or below maxRealTokenId that no token has: they can never be decoded, so
   * they are masked too. Empty for the real vocabulary (contiguous); the fixture's has one large hole.
   */
  readonly unusedIdRanges: readonly (readonly [number, number])[];
}

const EMPTY = new Uint8Array(0);
const PLACEHOLDER_NAME = /dummy|reserved|placeholder|unused/i;

interface AddedTokenLike {
  id: number;
  content: string;
  special?: boolean;
}

/** Build a tokenizer from parsed tokenizer.json / tokenizer_config.json objects. */
/** Every control token must be an added token (so text containing it is split out) with its real id. */
function checkControlTokens(added: ReadonlyMap<number, AddedTokenLike>): void {
  const addedIdByContent = new Map([...added.values()].map((t) => [t.content, t.id]));
  const mismatches: string[] = [];
  for (const expected of PHI4MM_ADDED_TOKENS) {
    const actual = addedIdByContent.get(expected.content);
    if (actual !== expected.id)
      mismatches.push(`${expected.content} is ${actual ?? 'not an added token'}, expected ${expected.id}`);
  }
  if (mismatches.length > 0) {
    throw new EarshotError(
      'E_MODEL_INVALID',
      `tokenizer.json does not carry Phi-4-mm's token ids: ${mismatches.join('; ')}`,
    );
  }
}

/** The highest id the model learned, and the ids below it that no token uses (never to be sampled). */
function realTokenIds(
  vocab: Record<string, number>,
  added: ReadonlyMap<number, AddedTokenLike>,
): { maxRealTokenId: number; unusedIdRanges: [number, number][] } {
  let maxId = 0;
  for (const id of Object.values(vocab)) if (id > maxId) maxId = id;
  for (const t of added.values()) if (!PLACEHOLDER_NAME.test(t.content) && t.id > maxId) maxId = t.id;
  // Fine-tuning placeholders up to the 200064-row embedding may be listed as tokens, but the model
  // never learned them: anything above <|tag|> is padding (docs/model.md, "Tokens and prompts").
  const maxRealTokenId = Math.min(maxId, PHI4MM_LAST_REAL_TOKEN_ID);
  const usedIds = new Uint8Array(maxRealTokenId + 1);
  for (const id of Object.values(vocab)) if (id <= maxRealTokenId) usedIds[id] = 1;
  for (const t of added.values()) if (t.id <= maxRealTokenId) usedIds[t.id] = 1;
  const unusedIdRanges: [number, number][] = [];
  for (let id = 0; id <= maxRealTokenId; id++) {
    if (usedIds[id]) continue;
    const start = id;
    while (id <= maxRealTokenId && !usedIds[id]) id++;
    unusedIdRanges.push([start, id]);
  }
  return { maxRealTokenId, unusedIdRanges };
}

export function createTokenizer(tokenizerJson: unknown, tokenizerConfigJson: unknown): Phi4Tokenizer {
  const json = tokenizerJson as { added_tokens?: AddedTokenLike[]; model?: { vocab?: Record<string, number> } };
  if (typeof json !== 'object' || json === null || typeof json.model?.vocab !== 'object') {
    throw new EarshotError(
      'E_MODEL_INVALID',
      'tokenizer.json has no model.vocab: not a Hugging Face BPE tokenizer file.',
    );
  }
  let hf: Tokenizer;
  try {
    hf = new Tokenizer(tokenizerJson as object, (tokenizerConfigJson ?? {}) as object);
  } catch (cause) {
    throw new EarshotError('E_MODEL_INVALID', `tokenizer.json could not be loaded: ${String(cause)}`, { cause });
  }

  const added = new Map<number, AddedTokenLike>();
  for (const t of json.added_tokens ?? []) added.set(t.id, t);

  checkControlTokens(added);

  const { maxRealTokenId, unusedIdRanges } = realTokenIds(json.model!.vocab!, added);

  const utf8 = new TextEncoder();
  const bytesCache = new Map<number, Uint8Array>();
  const tokenBytes = (id: number): Uint8Array => {
    let bytes = bytesCache.get(id);
    if (bytes !== undefined) return bytes;
    const addedToken = added.get(id);
    if (addedToken !== undefined) {
      bytes = utf8.encode(addedToken.content);
    } else {
      const token = hf.id_to_token(id);
      bytes = token === undefined ? EMPTY : (byteLevelStringToBytes(token) ?? utf8.encode(token));
    }
    bytesCache.set(id, bytes);
    return bytes;
  };
  const isSpecial = (id: number): boolean => added.get(id)?.special === true;

  const model = hf.model!;
  const preTokenizer = hf.pre_tokenizer;
  const toIds = (tokens: string[]): number[] =>
    tokens.map((t) => {
      const id = model.tokens_to_ids.get(t);
      if (id === undefined)
        throw new EarshotError('E_INTERNAL', `BPE produced a token outside the vocabulary: ${JSON.stringify(t)}`);
      return id;
    });

  const encodeCache = new Map<string, number[]>();
  return {
    maxRealTokenId,
    encode(text: string): number[] {
      if (text.length === 0) return [];
      return hf.encode(text, { add_special_tokens: false }).ids;
    },
    encodeLiteral(text: string): number[] {
      if (text.length === 0) return [];
      // Task prompts and instructions repeat with every caption: encode each once.
      const cached = text.length <= ENCODE_CACHE_MAX_CHARS ? encodeCache.get(text) : undefined;
      if (cached !== undefined) return [...cached];
      const pieces = preTokenizer === null ? [text] : preTokenizer(text, { section_index: 0 });
      const ids = toIds(model(pieces));
      if (text.length <= ENCODE_CACHE_MAX_CHARS) {
        if (encodeCache.size >= ENCODE_CACHE_ENTRIES) encodeCache.delete(encodeCache.keys().next().value!);
        encodeCache.set(text, ids);
        return [...ids];
      }
      return ids;
    },
    decode(ids: readonly number[], options?: DecodeOptions): string {
      const skip = options?.skipSpecialTokens ?? true;
      const parts: Uint8Array[] = [];
      let total = 0;
      for (const id of ids) {
        if (skip && isSpecial(id)) continue;
        const b = tokenBytes(id);
        parts.push(b);
        total += b.length;
      }
      const all = new Uint8Array(total);
      let offset = 0;
      for (const p of parts) {
        all.set(p, offset);
        offset += p.length;
      }
      return new TextDecoder('utf-8').decode(all);
    },
    tokenBytes,
    isSpecial,
    idOf: (token: string) => hf.token_to_id(token),
    unusedIdRanges,
  };
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (!required) return {};
    throw new EarshotError('E_MODEL_INVALID', `Cannot read ${path}: the model directory needs its tokenizer files.`, {
      cause,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new EarshotError('E_MODEL_INVALID', `${path} is not valid JSON.`, { cause });
  }
}

/** Load `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a model variant directory. */
export async function loadTokenizer(dir: string): Promise<Phi4Tokenizer> {
  const [tokenizerJson, configJson] = await Promise.all([
    readJson(join(dir, 'tokenizer.json'), true),
    readJson(join(dir, 'tokenizer_config.json'), false),
  ]);
  return createTokenizer(tokenizerJson, configJson);
}
