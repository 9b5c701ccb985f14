// Turns answer text written for a screen into text worth speaking: markdown marks, code blocks and the
// model's tool syntax are not read aloud ("asterisk asterisk", "hash"). Stateful across pieces because a
// code fence opens in one piece and closes several pieces later (the splitter cuts at every newline, so a
// fence line is always its own piece).

const FENCE = /^\s*(```|~~~)/;
const SPECIAL_TOKEN = /<\|[^|>]*\|>/g; // Phi-4 chat-template tokens such as <|tool_call|>
const LINK = /!?\[([^\]]*)\]\([^)]*\)/g; // [text](url) and images: keep the text
const LINE_MARK = /^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+(?=\D))/; // heading, quote, list bullet
const INLINE_MARKS = /(\*{1,3}|_{2,3}|~~|`+)/g;
const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

export class SpeakableText {
  private inCodeBlock = false;

  /** The piece as it should be spoken; '' when nothing in it is worth speaking. */
  clean(piece: string): string {
    if (FENCE.test(piece)) {
      this.inCodeBlock = !this.inCodeBlock;
      return '';
    }
    if (this.inCodeBlock || TABLE_RULE.test(piece)) return '';
    let text = piece.replace(SPECIAL_TOKEN, ' ').replace(LINK, '$1');
    text = text
      .replace(LINE_MARK, '')
      .replace(INLINE_MARKS, '')
      .replace(/#/g, ' ')
      .replace(/\s*\|\s*/g, ', ');
    text = text.replace(/\s+/g, ' ').replace(/^[\s,]+|[\s,]+$/g, '');
    return /[\p{L}\p{N}]/u.test(text) ? text : '';
  }
}
