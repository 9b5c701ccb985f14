// The soak's usage checks (src/bench/soak_tracker.ts) and the transcription usage (src/agent/caption.ts).
import { describe, expect, it } from 'vitest';
import { transcriptionUsage } from '../../../src/agent/caption.ts';
import { negativeFields, usageProblems } from '../../../src/bench/soak_tracker.ts';

describe('usage checks', () => {
  it('find negative fields, input != text + audio, cached > input', () => {
    const ok = {
      input_tokens: 10,
      output_tokens: 2,
      input_token_details: { text_tokens: 4, audio_tokens: 6, cached_tokens: 10 },
    };
    expect(usageProblems(ok)).toEqual([]);
    expect(negativeFields({ a: { b: -1 }, c: 2 })).toEqual(['usage.a.b']);
    expect(
      usageProblems({ input_tokens: 3650, input_token_details: { text_tokens: -8363, audio_tokens: 12013 } }),
    ).toEqual(['usage.input_token_details.text_tokens']);
    expect(usageProblems({ input_tokens: 10, input_token_details: { text_tokens: 4, audio_tokens: 5 } })).toEqual([
      'input_tokens 10 != text + audio 9',
    ]);
    expect(
      usageProblems({ input_tokens: 10, input_token_details: { text_tokens: 4, audio_tokens: 6, cached_tokens: 11 } }),
    ).toEqual(['cached_tokens 11 > input_tokens 10']);
  });

  it('transcription usage: what the caption attended to, never negative', () => {
    expect(transcriptionUsage({ contextTokens: 900, audioTokens: 300 }, 120, 100, 7)).toEqual({
      type: 'tokens',
      input_tokens: 900,
      output_tokens: 7,
      total_tokens: 907,
      input_token_details: { text_tokens: 600, audio_tokens: 300 },
    });
    // An engine that does not say: the caption's own turn; a shrunken context never makes it negative.
    expect(transcriptionUsage({}, 120, 100, 7).input_token_details).toEqual({ text_tokens: 20, audio_tokens: 100 });
    expect(transcriptionUsage({}, 0, 100, 7).input_token_details).toEqual({ text_tokens: 0, audio_tokens: 0 });
  });
});
