// Which ids generation may produce, and which ids a prompt may hold. Only the chat template writes the
// control tokens (<|user|>, <|assistant|>, <|system|>, the tool-list tags, <|tool_response|>) and the media
// placeholders (200010 image, 200011 audio): a generated one would later be fed back as input, where an
// image placeholder with no image rows fails the embedding graph on every run that contains it, and a
// stray <|user|> corrupts the conversation. So generation masks the whole control block except the stops
// (<|end|>, <|endoftext|>) and the tool-call tags the agent parses; and every id that enters a session is
// checked before it is stored, so no path (a sampled id, a rebuilt turn) can carry a bad one in.

import { EarshotError } from '../../errors.ts';
import type { Phi4Tokenizer } from './tokenizer.ts';
import { PHI4MM_LAST_REAL_TOKEN_ID, TOKEN_ID } from './tokenizer_ids.ts';

/** First id of the control block (the ids the chat template and the graphs give a meaning). */
export const CONTROL_BLOCK_FIRST_ID = TOKEN_ID.endOfText;

/** Control ids that are legitimate model output: the stops and the tool-call markup. */
export const GENERATABLE_CONTROL_IDS: readonly number[] = [
  TOKEN_ID.endOfText,
  TOKEN_ID.end,
  TOKEN_ID.toolCall,
  TOKEN_ID.toolCallEnd,
];

type Range = readonly [number, number];

const blockedCache = new WeakMap<Phi4Tokenizer, Range[]>();

/** Sorted, merged [start, end) ranges. */
function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** The control block minus the generatable ids, as [start, end) ranges up to the last real token. */
export function controlMaskRanges(lastRealTokenId = PHI4MM_LAST_REAL_TOKEN_ID): Range[] {
  const allowed = new Set(GENERATABLE_CONTROL_IDS);
  const ranges: Range[] = [];
  for (let id = CONTROL_BLOCK_FIRST_ID; id <= lastRealTokenId; id++) {
    if (allowed.has(id)) continue;
    const start = id;
    while (id + 1 <= lastRealTokenId && !allowed.has(id + 1)) id++;
    ranges.push([start, id + 1]);
  }
  return ranges;
}

/**
 * Ids generation never produces: the tokenizer's unused ids and the control ids only the template writes
 * (sorted, merged; computed once per tokenizer). Padding columns above maxRealTokenId are masked apart.
 */
export function blockedIdRanges(tokenizer: Phi4Tokenizer): readonly Range[] {
  let ranges = blockedCache.get(tokenizer);
  if (ranges === undefined) {
    ranges = mergeRanges([...tokenizer.unusedIdRanges, ...controlMaskRanges(tokenizer.maxRealTokenId)]);
    blockedCache.set(tokenizer, ranges);
  }
  return ranges;
}

/** Whether generation may produce `id` (the same rule as the mask). */
export function isGeneratable(tokenizer: Phi4Tokenizer, id: number): boolean {
  if (!Number.isInteger(id) || id < 0 || id > tokenizer.maxRealTokenId) return false;
  for (const [start, end] of blockedIdRanges(tokenizer)) if (id >= start && id < end) return false;
  return true;
}

/**
 * Checks ids before they enter a session: integers within the real vocabulary, no image placeholder
 * (Earshot feeds no images, so the embedding graph has no rows for one), and exactly `audioRows` audio
 * placeholders. Throws E_PROMPT_TOKEN_INVALID / E_PROMPT_AUDIO_MISMATCH before anything is changed.
 */
export function checkPromptIds(ids: readonly number[], maxRealTokenId: number, audioRows: number): void {
  let audio = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id > maxRealTokenId) {
      throw new EarshotError(
        'E_PROMPT_TOKEN_INVALID',
        `Token id ${id} at position ${i} is outside the model's vocabulary (0..${maxRealTokenId}).`,
      );
    }
    if (id === TOKEN_ID.image) {
      throw new EarshotError(
        'E_PROMPT_TOKEN_INVALID',
        `Token id ${id} (the image placeholder) at position ${i}: this server feeds no images.`,
      );
    }
    if (id === TOKEN_ID.audio) audio++;
  }
  if (audio !== audioRows) {
    throw new EarshotError(
      'E_PROMPT_AUDIO_MISMATCH',
      `The turn has ${audio} audio token positions but its audio clips have ${audioRows} rows.`,
    );
  }
}
