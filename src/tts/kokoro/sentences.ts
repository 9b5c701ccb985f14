// Sentence cuts inside one synthesis request: each sentence is one Kokoro run (and one audio chunk), so a
// long request streams its first sentence while the rest is still being synthesised.

/** Splits after . ! ? … (with closing quotes/brackets) followed by whitespace or the end; keeps the marks. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const boundary = /[.!?…]+["'”’)\]]*(?=\s|$)/g;
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = (match.index ?? 0) + match[0].length;
    out.push(text.slice(start, end).trim());
    start = end;
  }
  out.push(text.slice(start).trim());
  // Pieces without a letter or digit (stray punctuation) have nothing to say.
  return out.filter((s) => /[\p{L}\p{N}]/u.test(s));
}
