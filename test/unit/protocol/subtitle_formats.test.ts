import { describe, expect, it } from 'vitest';
import { toPlainText, toSrt, toWebVtt } from '../../../src/protocol/subtitle_formats.ts';

const cues = [
  { startMs: 0, endMs: 1500, text: 'Hello there.' },
  { startMs: 61_234.4, endMs: 3_723_456, text: 'Fish & chips <b>\n\n second line ' },
  { startMs: 4000, endMs: 4500, text: '   ' },
];

describe('subtitle formats', () => {
  it('WebVTT: header, numbered cues, dot milliseconds, escaped text, blank lines removed', () => {
    expect(toWebVtt(cues)).toBe(
      'WEBVTT\n\n' +
        '1\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n' +
        '2\n00:01:01.234 --> 01:02:03.456\nFish &amp; chips &lt;b&gt;\nsecond line\n',
    );
    expect(toWebVtt([])).toBe('WEBVTT\n');
  });

  it('SRT: numbered cues, comma milliseconds, no escaping', () => {
    expect(toSrt(cues)).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n' +
        '2\n00:01:01,234 --> 01:02:03,456\nFish & chips <b>\nsecond line\n',
    );
    expect(toSrt([])).toBe('');
  });

  it('plain text: one line per cue', () => {
    expect(toPlainText(cues)).toBe('Hello there.\nFish & chips <b> second line\n');
    expect(toPlainText([])).toBe('');
  });

  it('hours widen past 99 and every end is after its start', () => {
    expect(toSrt([{ startMs: 100 * 3_600_000, endMs: 5, text: 'x' }])).toBe('1\n100:00:00,000 --> 100:00:00,001\nx\n');
    expect(toWebVtt([{ startMs: 1000.2, endMs: 999.9, text: 'y' }])).toContain('00:00:01.000 --> 00:00:01.001\ny');
  });

  it('no line of cue text holds the timing arrow, in either format', () => {
    const arrow = [{ startMs: 0, endMs: 1000, text: 'a --> b' }];
    expect(toSrt(arrow)).toBe('1\n00:00:00,000 --> 00:00:01,000\na -> b\n');
    expect(toWebVtt(arrow)).toContain('\na -&gt; b\n');
  });
});
