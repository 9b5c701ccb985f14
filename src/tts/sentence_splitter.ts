// Cuts streaming answer text into pieces a voice engine can speak, as the text arrives. Pure (the caller
// passes the clock), so the rules are tested with strings and numbers alone.
//   - a sentence ends at . ! ? ; followed by whitespace, or at a newline;
//   - the FIRST piece of an answer is cut early, at a clause mark (, : or a dash) once it holds
//     firstCutMinChars, or at the last word boundary when firstCutWaitMs pass without an end: the first
//     audio then does not wait for a long first sentence (voice-agent budgets give it 40-250 ms);
//   - text without any end is cut at a word boundary at maxSentenceChars.

export interface SplitterBounds {
  firstCutMinChars: number;
  firstCutWaitMs: number;
  minSentenceChars: number;
  maxSentenceChars: number;
}

const SENTENCE_END = /[.!?;]+["')\]]*(?=\s)|\n/g;
const CLAUSE_END = /[,:\u2013\u2014]["')\]]*(?=\s)|\s-(?=\s)/g;

export class SentenceSplitter {
  private readonly bounds: SplitterBounds;
  private pending = '';
  private pendingSinceMs: number | null = null;
  private emittedPieces = 0;

  constructor(bounds: SplitterBounds) {
    this.bounds = bounds;
  }

  /** Characters received and not yet cut into a piece. */
  get pendingChars(): number {
    return this.pending.length;
  }

  /** True until the first piece has been cut (only then does the early cut apply). */
  get awaitingFirstPiece(): boolean {
    return this.emittedPieces === 0;
  }

  /** When the wait-based first cut falls due, in the caller's clock; null when none is pending. */
  get firstCutDueAtMs(): number | null {
    if (!this.awaitingFirstPiece || this.pendingSinceMs === null || this.pending.trim() === '') return null;
    return this.pendingSinceMs + this.bounds.firstCutWaitMs;
  }

  push(text: string, nowMs: number): string[] {
    if (text === '') return [];
    if (this.pendingSinceMs === null) this.pendingSinceMs = nowMs;
    this.pending += text;
    return this.cutReady(nowMs);
  }

  /** Applies the wait-based first cut if it is due at nowMs. */
  tick(nowMs: number): string[] {
    return this.cutReady(nowMs);
  }

  /** No more text: whatever is pending becomes the last piece. */
  end(): string[] {
    const rest = this.pending;
    this.pending = '';
    this.pendingSinceMs = null;
    return this.emit(rest);
  }

  private cutReady(nowMs: number): string[] {
    const out: string[] = [];
    for (;;) {
      const cut = this.nextCut(nowMs);
      if (cut === null) return out;
      const piece = this.pending.slice(0, cut);
      this.pending = this.pending.slice(cut);
      this.pendingSinceMs = this.pending === '' ? null : nowMs;
      out.push(...this.emit(piece));
    }
  }

  /** Index just past the next cut in `pending`, or null when no piece is ready yet. */
  private nextCut(nowMs: number): number | null {
    const { minSentenceChars, maxSentenceChars, firstCutMinChars } = this.bounds;
    const text = this.pending;
    const sentence = firstMatchEndingAfter(SENTENCE_END, text, minSentenceChars, (m) => m[0] === '\n');
    if (sentence !== null && sentence <= maxSentenceChars) return sentence;
    if (this.awaitingFirstPiece) {
      const clause = firstMatchEndingAfter(CLAUSE_END, text, firstCutMinChars, () => false);
      if (clause !== null && clause <= maxSentenceChars) return clause;
      const due = this.firstCutDueAtMs;
      if (due !== null && nowMs >= due) {
        const word = lastWordBoundary(text, text.length);
        if (word !== null) return word;
      }
    }
    if (text.length > maxSentenceChars) return lastWordBoundary(text, maxSentenceChars) ?? maxSentenceChars;
    return null;
  }

  private emit(piece: string): string[] {
    const trimmed = piece.trim();
    if (trimmed === '') return [];
    this.emittedPieces++;
    return [trimmed];
  }
}

/** End of the first match whose end is at least minEnd (newlines always count), or null. */
function firstMatchEndingAfter(
  pattern: RegExp,
  text: string,
  minEnd: number,
  always: (m: RegExpExecArray) => boolean,
): number | null {
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const end = m.index + m[0].length;
    if (end >= minEnd || always(m)) return end;
  }
  return null;
}

/** Index just past the last whitespace at or before limit (a cut that keeps words whole), or null. */
function lastWordBoundary(text: string, limit: number): number | null {
  for (let i = Math.min(limit, text.length) - 1; i > 0; i--) {
    if (/\s/.test(text[i])) return i + 1;
  }
  return null;
}
