// Byte-level BPE (GPT-2 / tiktoken family) stores every byte as one printable unicode character so that
// token strings are valid JSON text. These tables convert between the two views; the streaming
// detokenizer works on raw bytes so that it never has to guess where a UTF-8 character ends.

const byteToChar: string[] = new Array(256);
const charToByte = new Map<string, number>();

(function buildTables(): void {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const isPrintable = new Set(printable);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const codePoint = isPrintable.has(b) ? b : 256 + next++;
    const ch = String.fromCodePoint(codePoint);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  }
})();

/** The unicode character that stands for `byte` in byte-level BPE vocabularies. */
export function byteToUnicode(byte: number): string {
  return byteToChar[byte];
}

/** Byte-level token string -> bytes, or undefined when a character is outside the byte alphabet. */
export function byteLevelStringToBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  let n = 0;
  for (const ch of token) {
    const b = charToByte.get(ch);
    if (b === undefined) return undefined;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Bytes -> byte-level token string. */
export function bytesToByteLevelString(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += byteToChar[b];
  return s;
}
