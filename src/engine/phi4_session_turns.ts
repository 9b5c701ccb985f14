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
  return tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters as ToolDefinition['parameters'] }));
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
export function userIds(tokenizer: Phi4Tokenizer, parts: readonly TurnPart[], asText?: { transcript?: string }): { ids: number[]; audio: AudioEmbedding[] } {
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
