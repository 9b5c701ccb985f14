// The turn log of a Phi-4 session: what each turn was (so a context rebuild can re-render it, with audio
// replaced by its transcript) and the exact token ids it holds in the KV cache (so re-prefilling the
// turns kept whole reproduces them bit for bit, generated tokens included).

import type { AudioEmbedding } from './phi4mm/generate_audio.ts';
import { appendIds, encodeChat, type ToolDefinition } from './phi4mm/chat_template.ts';
import type { Phi4Tokenizer } from './phi4mm/tokenizer.ts';
import { TOKEN_ID } from './phi4mm/tokenizer_ids.ts';
import type { ToolSpec } from './engine_session.ts';
import type { TurnCost, TurnKind } from './context_budget.ts';

export type TurnPart = { type: 'text'; text: string } | { type: 'audio'; audio: AudioEmbedding; audioId: string };

export interface Turn {
  /** Stable number of the turn in the conversation (survives rebuilds; TurnRef.index). */
  index: number;
  kind: TurnKind;
  /** Ids held in the conversation, in order (for audio, `rows` copies of the audio id). */
  ids: number[];
  /** Audio clips whose rows are in `ids`, in order (empty once replaced by the transcript). */
  audio: AudioEmbedding[];
  /** User turns: the parts, to re-render with the transcript at a rebuild. */
  parts?: TurnPart[];
  transcript?: string;
  /** True when the audio has been replaced by the transcript. */
  compacted?: boolean;
}

export function toolDefinitions(tools: readonly ToolSpec[]): ToolDefinition[] {
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.parameters as ToolDefinition['parameters'],
  }));
}

/** `<|system|>{instructions}<|tool|>{tools}<|/tool|><|end|>` (tool part only with tools). */
export function systemIds(tokenizer: Phi4Tokenizer, instructions: string, tools: readonly ToolSpec[] = []): number[] {
  return encodeChat(tokenizer, {
    messages: [{ role: 'system', content: instructions }],
    tools: toolDefinitions(tools),
    addGenerationPrompt: false,
  }).ids;
}

/**
 * `<|user|>{parts}<|end|>`. Text is encoded literally (a typed "<|audio_1|>" or "<|end|>" stays text),
 * audio becomes `rows` audio ids. With `transcript` set, audio parts are replaced by the transcript
 * once (the transcript covers the turn's audio); without one they are left out.
 */
export function userIds(
  tokenizer: Phi4Tokenizer,
  parts: readonly TurnPart[],
  asText?: { transcript?: string },
): { ids: number[]; audio: AudioEmbedding[] } {
  const ids: number[] = [TOKEN_ID.user];
  const audio: AudioEmbedding[] = [];
  let transcriptWritten = false;
  for (const part of parts) {
    if (part.type === 'text') {
      appendIds(ids, tokenizer.encodeLiteral(part.text));
    } else if (asText === undefined) {
      for (let i = 0; i < part.audio.rows; i++) ids.push(TOKEN_ID.audio);
      audio.push(part.audio);
    } else if (!transcriptWritten && asText.transcript !== undefined) {
      appendIds(ids, tokenizer.encodeLiteral(asText.transcript));
      transcriptWritten = true;
    }
  }
  ids.push(TOKEN_ID.end);
  return { ids, audio };
}

/**
 * Text longer than this (in UTF-16 units) is tokenized in slices, one scheduler step each, so one session's
 * large input cannot hold the other sessions' steps for the whole of its tokenization (~40 ms a slice on a
 * slow core instead of ~1 s for a 128 KiB item).
 */
export const TOKENIZE_SLICE_CHARS = 4096;

const LETTER = /\p{L}/u;
const SPACE = /\s/u;

/**
 * Where `text` may be cut without changing its tokens: before a letter that follows a line break, or
 * before a single space between a non-space and a letter. No piece of the o200k split pattern spans such a
 * place, so the slices encode to exactly the whole text's ids. A slice of maxChars with no such place is
 * cut hard (after a whole code point): still the same bytes, though not the canonical tokens there.
 */
export function sliceForTokenizing(text: string, maxChars: number): { slices: string[]; hardCuts: number } {
  const slices: string[] = [];
  let hardCuts = 0;
  let start = 0;
  while (text.length - start > maxChars) {
    let cut = -1;
    for (let p = start + maxChars; p > start + 1; p--) {
      const c = text[p];
      const prev = text[p - 1];
      if (
        (LETTER.test(c) && (prev === '\n' || prev === '\r')) ||
        (c === ' ' && LETTER.test(text[p + 1] ?? '') && !SPACE.test(prev))
      ) {
        cut = p;
        break;
      }
    }
    if (cut < 0) {
      hardCuts++;
      cut = start + maxChars;
      const code = text.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
    }
    slices.push(text.slice(start, cut));
    start = cut;
  }
  slices.push(text.slice(start));
  return { slices, hardCuts };
}

/** encodeLiteral of `text` appended to `out`, one slice per step (the generator yields between slices). */
export function* encodeSliced(
  tokenizer: Phi4Tokenizer,
  text: string,
  out: number[],
  sliceChars = TOKENIZE_SLICE_CHARS,
): Generator<void, void, void> {
  if (text.length <= sliceChars) return appendIds(out, tokenizer.encodeLiteral(text));
  const { slices } = sliceForTokenizing(text, sliceChars);
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) yield;
    appendIds(out, tokenizer.encodeLiteral(slices[i]));
  }
}

/** userIds (no transcript), tokenizing long text parts in slices: yields between slices. */
export function* userIdsSliced(
  tokenizer: Phi4Tokenizer,
  parts: readonly TurnPart[],
): Generator<void, { ids: number[]; audio: AudioEmbedding[] }, void> {
  const ids: number[] = [TOKEN_ID.user];
  const audio: AudioEmbedding[] = [];
  for (const part of parts) {
    if (part.type === 'text') yield* encodeSliced(tokenizer, part.text, ids);
    else {
      for (let i = 0; i < part.audio.rows; i++) ids.push(TOKEN_ID.audio);
      audio.push(part.audio);
    }
  }
  ids.push(TOKEN_ID.end);
  return { ids, audio };
}

/** `[open] text <|end|>` with the text tokenized in slices (assistant and tool-response turns). */
export function* wrappedIdsSliced(
  tokenizer: Phi4Tokenizer,
  open: number,
  text: string,
): Generator<void, number[], void> {
  const ids = [open];
  yield* encodeSliced(tokenizer, text, ids);
  ids.push(TOKEN_ID.end);
  return ids;
}

export function assistantIds(tokenizer: Phi4Tokenizer, text: string): number[] {
  return [TOKEN_ID.assistant, ...tokenizer.encodeLiteral(text), TOKEN_ID.end];
}

export function toolResponseIds(tokenizer: Phi4Tokenizer, resultJson: string): number[] {
  return [TOKEN_ID.toolResponse, ...tokenizer.encodeLiteral(resultJson), TOKEN_ID.end];
}

/** A turn is open when generation stopped before `<|end|>` (length, abort, custom stop id). */
export function isOpen(turn: Turn | undefined): boolean {
  return turn !== undefined && turn.kind === 'assistant' && turn.ids.at(-1) !== TOKEN_ID.end;
}

export function turnTokens(turns: readonly Turn[]): number {
  return turns.reduce((n, t) => n + t.ids.length, 0);
}

/** Costs for the rebuild planner; `textTokens` only where audio can still be replaced. */
export function turnCosts(tokenizer: Phi4Tokenizer, turns: readonly Turn[]): TurnCost[] {
  return turns.map((t) => {
    const replaceable = t.kind === 'user' && t.audio.length > 0 && t.parts !== undefined;
    const textTokens = replaceable ? userIds(tokenizer, t.parts!, { transcript: t.transcript }).ids.length : undefined;
    // An open assistant turn gets its <|end|> when rebuilt.
    const tokens = t.ids.length + (isOpen(t) ? 1 : 0);
    return { kind: t.kind, tokens, textTokens };
  });
}
