// Which ids generation may produce and which a prompt may hold (token_mask.ts), on the fixture tokenizer.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import {
  blockedIdRanges,
  checkPromptIds,
  controlMaskRanges,
  isGeneratable,
} from '../../../src/engine/phi4mm/token_mask.ts';
import { loadTokenizer, type Phi4Tokenizer } from '../../../src/engine/phi4mm/tokenizer.ts';
import { TOKEN_ID } from '../../../src/engine/phi4mm/tokenizer_ids.ts';
import { EarshotError } from '../../../src/errors.ts';

let tokenizer: Phi4Tokenizer;
beforeAll(async () => {
  tokenizer = await loadTokenizer(await ensureFixtureModel('tiny'));
}, 120_000);

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof EarshotError ? e.code : String(e);
  }
};

describe('token mask', () => {
  it('masks every control id but the stops and the tool-call tags', () => {
    const masked = new Set(controlMaskRanges().flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)));
    for (const id of [
      TOKEN_ID.image,
      TOKEN_ID.audio,
      TOKEN_ID.endOfPrompt,
      TOKEN_ID.assistant,
      TOKEN_ID.user,
      TOKEN_ID.system,
      TOKEN_ID.tool,
      TOKEN_ID.toolEnd,
      TOKEN_ID.toolResponse,
      TOKEN_ID.tag,
    ]) {
      expect(masked.has(id)).toBe(true);
      expect(isGeneratable(tokenizer, id)).toBe(false);
    }
    for (const id of [TOKEN_ID.end, TOKEN_ID.endOfText, TOKEN_ID.toolCall, TOKEN_ID.toolCallEnd]) {
      expect(masked.has(id)).toBe(false);
      expect(isGeneratable(tokenizer, id)).toBe(true);
    }
    // Ordinary text ids stay; ids past the last real token and unused ids do not.
    expect(isGeneratable(tokenizer, tokenizer.encode('hello')[0])).toBe(true);
    expect(isGeneratable(tokenizer, tokenizer.maxRealTokenId + 1)).toBe(false);
    for (const [start] of tokenizer.unusedIdRanges) expect(isGeneratable(tokenizer, start)).toBe(false);
  });

  it('the blocked ranges are sorted, merged and cover the unused ids', () => {
    const ranges = blockedIdRanges(tokenizer);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThan(ranges[i - 1][1]);
    for (const [a, b] of tokenizer.unusedIdRanges) expect(ranges.some(([s, e]) => s <= a && e >= b)).toBe(true);
  });

  it('prompt ids: an image placeholder, an id outside the vocabulary or a wrong audio count is refused', () => {
    const text = tokenizer.encode('hi');
    expect(
      codeOf(() => checkPromptIds([TOKEN_ID.user, ...text, TOKEN_ID.end], tokenizer.maxRealTokenId, 0)),
    ).toBeUndefined();
    expect(codeOf(() => checkPromptIds([TOKEN_ID.audio, TOKEN_ID.audio], tokenizer.maxRealTokenId, 2))).toBeUndefined();
    expect(codeOf(() => checkPromptIds([TOKEN_ID.user, TOKEN_ID.image], tokenizer.maxRealTokenId, 0))).toBe(
      'E_PROMPT_TOKEN_INVALID',
    );
    expect(codeOf(() => checkPromptIds([200050], tokenizer.maxRealTokenId, 0))).toBe('E_PROMPT_TOKEN_INVALID');
    expect(codeOf(() => checkPromptIds([-1], tokenizer.maxRealTokenId, 0))).toBe('E_PROMPT_TOKEN_INVALID');
    expect(codeOf(() => checkPromptIds([TOKEN_ID.audio], tokenizer.maxRealTokenId, 2))).toBe('E_PROMPT_AUDIO_MISMATCH');
  });
});
