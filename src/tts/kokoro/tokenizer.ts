import { EarshotError } from '../../errors.ts';
import { PAD_ID } from './vocab.ts';

// Phonemes -> Kokoro input ids. The vocabulary comes from the model folder's tokenizer.json (`model.vocab`,
// one symbol per id); symbols it lacks are dropped, as Kokoro's own pipeline does. Every input is padded
// with id 0 at both ends, so one graph run takes at most MAX_PHONEMES_PER_RUN phonemes.

/** Longest input_ids the graph takes (its positional table), pads included. */
export const MAX_INPUT_IDS = 512;
export const MAX_PHONEMES_PER_RUN = MAX_INPUT_IDS - 2;
/** Largest tokenizer.json read, in bytes (the real one is ~3 KB). */
export const MAX_TOKENIZER_JSON_BYTES = 1 << 20;

export type KokoroVocab = ReadonlyMap<string, number>;

/** Parses tokenizer.json text; a missing or odd vocabulary is a model-folder error. */
export function parseVocab(json: string, where: string): KokoroVocab {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new EarshotError('E_MODEL_INVALID', `${where} is not valid JSON: ${(err as Error).message}.`);
  }
  const vocab = (parsed as { model?: { vocab?: unknown } } | null)?.model?.vocab;
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) {
    throw new EarshotError('E_MODEL_INVALID', `${where} has no model.vocab object (Kokoro's phoneme vocabulary).`);
  }
  const map = new Map<string, number>();
  for (const [symbol, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 1023) {
      throw new EarshotError(
        'E_MODEL_INVALID',
        `${where}: the id of ${JSON.stringify(symbol)} is not a small non-negative integer.`,
      );
    }
    // Kokoro's symbols are single code points; anything longer can never match a phoneme and is skipped.
    if ([...symbol].length === 1) map.set(symbol, id as number);
  }
  if (map.size === 0) throw new EarshotError('E_MODEL_INVALID', `${where}: the vocabulary is empty.`);
  return map;
}

/** Ids of the known symbols, in order; `dropped` counts the rest. The pad symbol is never taken from text. */
export function tokenize(phonemes: string, vocab: KokoroVocab): { ids: number[]; dropped: number } {
  const ids: number[] = [];
  let dropped = 0;
  for (const symbol of phonemes) {
    const id = vocab.get(symbol);
    if (id === undefined || id === PAD_ID) dropped += 1;
    else ids.push(id);
  }
  return { ids, dropped };
}

/**
 * Splits one sentence's phonemes into runs of at most `maxPhonemes` symbols, at the last word boundary
 * (space) that fits; a single word longer than that is cut where it must be.
 */
export function splitPhonemes(phonemes: string, maxPhonemes: number = MAX_PHONEMES_PER_RUN): string[] {
  const symbols = [...phonemes.trim()];
  const parts: string[] = [];
  let start = 0;
  while (symbols.length - start > maxPhonemes) {
    let cut = start + maxPhonemes;
    const lastSpace = symbols.lastIndexOf(' ', cut);
    if (lastSpace > start) cut = lastSpace;
    parts.push(symbols.slice(start, cut).join('').trim());
    start = cut;
    while (symbols[start] === ' ') start += 1;
  }
  const rest = symbols.slice(start).join('').trim();
  if (rest !== '') parts.push(rest);
  return parts;
}

/** input_ids of one run: the ids between two pads. */
export function padIds(ids: readonly number[]): BigInt64Array {
  if (ids.length > MAX_PHONEMES_PER_RUN)
    throw new EarshotError('E_INTERNAL', `${ids.length} phoneme ids do not fit one Kokoro run.`);
  const out = new BigInt64Array(ids.length + 2);
  out[0] = BigInt(PAD_ID);
  for (let i = 0; i < ids.length; i++) out[i + 1] = BigInt(ids[i]);
  out[ids.length + 1] = BigInt(PAD_ID);
  return out;
}

/** Voice row for an input of `inputIdCount` ids (pads included): min(max(T-2, 0), 509). */
export function styleRowIndex(inputIdCount: number, rows = 510): number {
  return Math.min(Math.max(inputIdCount - 2, 0), rows - 1);
}
