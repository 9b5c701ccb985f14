import { EarshotError } from '../../errors.ts';
import { sharedProcessLauncher } from '../process_launcher.ts';

// Grapheme-to-phoneme for Kokoro through the espeak-ng program (a child process, so its GPL code stays out of
// Earshot's process). espeak prints one line per clause and drops the punctuation, which Kokoro reads as
// prosody; so the text is cut into clauses here, sent one per line, and each line gets its punctuation back.

export interface PhonemizeOptions {
  /** espeak-ng executable (default `espeak-ng` on PATH). */
  program?: string;
  /** espeak voice (default en-us, the accent of Kokoro's American voices). */
  language?: string;
  signal?: AbortSignal;
  /** Bound on espeak's output in bytes, so a runaway process cannot fill memory. */
  maxOutputBytes?: number;
}

const DEFAULT_MAX_OUTPUT_BYTES = 1 << 20;

/** espeak's IPA digraphs written as the single letters Kokoro's vocabulary uses for them. */
const KOKORO_LETTERS: [RegExp, string][] = [
  [/oʊ/g, 'O'],
  [/eɪ/g, 'A'],
  [/aɪ/g, 'I'],
  [/aʊ/g, 'W'],
  [/ɔɪ/g, 'Y'],
  [/dʒ/g, 'ʤ'],
  [/tʃ/g, 'ʧ'],
  [/r/g, 'ɹ'],
  [/ɐ/g, 'ə'],
];

export function toKokoroPhonemes(ipa: string): string {
  let out = ipa.normalize('NFC').replace(/[\u200d\u0361]/g, '');
  for (const [pattern, letter] of KOKORO_LETTERS) out = out.replace(pattern, letter);
  return out.replace(/\s+/g, ' ').trim();
}

export interface Clause {
  text: string;
  /** Punctuation that ended the clause (`,` `.` `?` ...), or '' at the end of unpunctuated text. */
  punctuation: string;
}

/** Cuts text at the clause punctuation espeak breaks lines at, keeping each mark. */
export function splitClauses(text: string): Clause[] {
  const clauses: Clause[] = [];
  const pattern = /([^,.;:!?…—]+)([,.;:!?…—]+|$)/g;
  for (const match of text.matchAll(pattern)) {
    const body = match[1].replace(/\s+/g, ' ').trim();
    if (body === '' && match[2] === '') continue;
    if (body === '') {
      if (clauses.length > 0) clauses[clauses.length - 1].punctuation += match[2];
      continue;
    }
    clauses.push({ text: body, punctuation: match[2] });
  }
  return clauses;
}

function runEspeak(lines: string[], o: PhonemizeOptions): Promise<string[]> {
  const maxBytes = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new EarshotError('E_ABORTED', 'Phonemisation cancelled.'));
    // Through the launcher: a request must not fork the server (see process_launcher.ts).
    const child = sharedProcessLauncher().spawn(o.program ?? 'espeak-ng', [
      '-q',
      '--ipa',
      '-v',
      o.language ?? 'en-us',
      '--stdin',
    ]);
    const stop = () => child.kill('SIGKILL');
    o.signal?.addEventListener('abort', stop, { once: true });
    child.once('close', () => o.signal?.removeEventListener('abort', stop));
    const out: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) child.kill('SIGKILL');
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (o.signal?.aborted) reject(new EarshotError('E_ABORTED', 'Phonemisation cancelled.'));
      else
        reject(
          new EarshotError(
            'E_TTS_ENGINE',
            `espeak-ng (Kokoro's phonemiser) could not run: ${err.message}. Install the espeak-ng package.`,
            { cause: err },
          ),
        );
    });
    child.on('close', (code) => {
      if (o.signal?.aborted) return reject(new EarshotError('E_ABORTED', 'Phonemisation cancelled.'));
      if (bytes > maxBytes)
        return reject(new EarshotError('E_TTS_ENGINE', `espeak-ng wrote more than ${maxBytes} bytes of phonemes.`));
      if (code !== 0)
        return reject(new EarshotError('E_TTS_ENGINE', `espeak-ng exited with code ${code}: ${stderr.trim()}`));
      resolve(
        Buffer.concat(out)
          .toString('utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      );
    });
    child.stdin.on('error', () => undefined); // a process that died early is reported by 'close'
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/**
 * Phonemes of one sentence (or a longer text) in Kokoro's alphabet, with the clause punctuation restored.
 * When espeak's lines do not match the clauses one to one (it splits very long clauses itself), the lines are
 * joined with spaces and only the final punctuation is kept.
 */
export async function phonemize(text: string, o: PhonemizeOptions = {}): Promise<string> {
  const clauses = splitClauses(text);
  if (clauses.length === 0) return '';
  // Each clause keeps its mark so that espeak ends its line there (a bare newline does not end a clause).
  const lines = await runEspeak(
    clauses.map((c) => `${c.text}${c.punctuation}`),
    o,
  );
  if (lines.length === clauses.length) {
    return clauses
      .map((c, i) => `${toKokoroPhonemes(lines[i])}${c.punctuation}`)
      .join(' ')
      .trim();
  }
  return `${toKokoroPhonemes(lines.join(' '))}${clauses[clauses.length - 1].punctuation}`.trim();
}

/**
 * Phonemes of several sentences from one espeak-ng process (a spawn costs more than the phonemes of a
 * sentence): every clause of every sentence goes on its own line. When espeak's lines do not match the
 * clauses, each sentence is phonemised on its own instead.
 */
export async function phonemizeSentences(sentences: readonly string[], o: PhonemizeOptions = {}): Promise<string[]> {
  const clauses = sentences.map((s) => splitClauses(s));
  const lines = clauses.flat().map((c) => `${c.text}${c.punctuation}`);
  if (lines.length === 0) return sentences.map(() => '');
  const out = await runEspeak(lines, o);
  if (out.length !== lines.length) return Promise.all(sentences.map((s) => phonemize(s, o)));
  let next = 0;
  return clauses.map((cs) =>
    cs
      .map((c) => `${toKokoroPhonemes(out[next++])}${c.punctuation}`)
      .join(' ')
      .trim(),
  );
}
