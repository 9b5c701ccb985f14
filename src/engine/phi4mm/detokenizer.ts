// Streaming detokenizer: turns generated token ids into text deltas as they arrive. Byte-level BPE
// tokens can end in the middle of a UTF-8 character (an emoji is often 2-4 tokens), so bytes are fed
// through a streaming TextDecoder that holds an incomplete sequence until it completes. The
// concatenation of all deltas plus `flush()` equals `tokenizer.decode(allIds)`.

import type { Phi4Tokenizer } from './tokenizer.ts';

export class StreamingDetokenizer {
  private decoder = new TextDecoder('utf-8');
  private readonly skipSpecialTokens: boolean;

  constructor(
    private readonly tokenizer: Pick<Phi4Tokenizer, 'tokenBytes' | 'isSpecial'>,
    options?: { skipSpecialTokens?: boolean },
  ) {
    this.skipSpecialTokens = options?.skipSpecialTokens ?? true;
  }

  /** Add one token; returns the text that became complete (possibly empty). */
  push(tokenId: number): string {
    if (this.skipSpecialTokens && this.tokenizer.isSpecial(tokenId)) return '';
    const bytes = this.tokenizer.tokenBytes(tokenId);
    if (bytes.length === 0) return '';
    return this.decoder.decode(bytes, { stream: true });
  }

  /** End of stream: held bytes of an unfinished character become U+FFFD, as a full decode would show them. */
  flush(): string {
    const tail = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8');
    return tail;
  }
}
