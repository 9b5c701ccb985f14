// The time-to-first-audio benchmark piece with small sizes: a real server, the biased fixture model and
// espeak-ng. The headline text is sampled (seeded) words with clause marks, the same on every run; the
// second text has none. Figures are not checked against any speed, only that each was measured.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { measureTtfa } from '../../../src/bench/tts/ttfa.ts';

const espeakInstalled = spawnSync('espeak-ng', ['--version']).status === 0;

describe.skipIf(!espeakInstalled)('bench tts: time to first audio', () => {
  it('speaks seeded words with clause marks, the same text on every run, through warm processes', async () => {
    const first = await measureTtfa({ answers: 2 });
    const again = await measureTtfa({ answers: 2 });
    expect(first.text).toBe('clause_marks');
    expect(first.answers).toBe(2);
    expect(Number.isFinite(first.ttfa_ms) && first.ttfa_ms > 0).toBe(true);
    // Only the favoured tokens, words and marks mixed.
    expect(first.text_before_audio).toMatch(/^( audio| the|,|\.)+$/);
    expect(first.text_before_audio).toMatch(/ (audio|the)[^,.]* (audio|the)/);
    expect(first.answer_text).toMatch(/[,.]/);
    expect(first.answer_text.startsWith(first.text_before_audio)).toBe(true);
    expect(again.answer_text).toBe(first.answer_text);
    expect(first.espeak_warm_processes).toBe(2);
  });

  it('measures text without clause marks, and a process per sentence when warming is off', async () => {
    const plain = await measureTtfa({ answers: 2, text: 'no_clause_marks', warmProcesses: 0 });
    expect(plain.text).toBe('no_clause_marks');
    expect(plain.text_before_audio).toMatch(/^( audio)+$/);
    expect(Number.isFinite(plain.ttfa_ms) && plain.ttfa_ms > 0).toBe(true);
    expect(plain.espeak_warm_processes).toBe(0);
  });
});
