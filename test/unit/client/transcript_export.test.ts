import { describe, expect, it } from 'vitest';
import type { Caption } from '../../../client/core/caption_track.ts';
import {
  FALLBACK_CUE_MS,
  formatTimestamp,
  toSrt,
  toTranscriptJson,
  toWebVtt,
} from '../../../client/core/transcript_export.ts';
import * as serverFormats from '../../../src/protocol/subtitle_formats.ts';

const cap = (itemId: string, startMs: number | null, endMs: number | null, text: string): Caption => ({
  itemId,
  startMs,
  endMs,
  text,
  state: 'final',
});

describe('transcript export', () => {
  it('formats timestamps for WebVTT and SRT', () => {
    expect(formatTimestamp(0, '.')).toBe('00:00:00.000');
    expect(formatTimestamp(3_723_456, '.')).toBe('01:02:03.456');
    expect(formatTimestamp(61_000.4, ',')).toBe('00:01:01,000');
  });

  it('writes one WebVTT cue per caption', () => {
    const vtt = toWebVtt([cap('a', 1200, 3400, 'Hello world.'), cap('b', 5000, 7250, 'Second <line> & more')]);
    expect(vtt).toBe(
      'WEBVTT\n\n1\n00:00:01.200 --> 00:00:03.400\nHello world.\n\n2\n00:00:05.000 --> 00:00:07.250\nSecond &lt;line&gt; &amp; more\n',
    );
    expect(vtt.match(/-->/g)).toHaveLength(2);
  });

  it('writes SRT with comma milliseconds and no header', () => {
    expect(toSrt([cap('a', 0, 1500, 'one'), cap('b', 2000, 2600, 'two')])).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\none\n\n2\n00:00:02,000 --> 00:00:02,600\ntwo\n',
    );
  });

  it('fills unknown times so every cue has end > start and no blank line or arrow inside a cue', () => {
    const vtt = toWebVtt([cap('a', null, null, 'first\n\nline --> two'), cap('b', 1000, 1000, 'b')]);
    expect(vtt).toContain(`00:00:00.000 --> 00:00:01.000\nfirst\nline -&gt; two\n`);
    expect(vtt).toContain('00:00:01.000 --> 00:00:01.001\nb');
    const lone = toSrt([cap('c', 500, null, 'c')]);
    expect(lone).toContain(`00:00:00,500 --> ${formatTimestamp(500 + FALLBACK_CUE_MS, ',')}`);
  });

  it('writes JSON with item ids and times', () => {
    const json = JSON.parse(toTranscriptJson([cap('item_1', 100, 900, 'hi')])) as unknown;
    expect(json).toEqual({ captions: [{ index: 1, item_id: 'item_1', start_ms: 100, end_ms: 900, text: 'hi' }] });
  });

  it('writes the same files as the server transcript endpoint for the same cues (empty captions dropped)', () => {
    const captions = [cap('a', 0, 900, 'one --> two'), cap('b', 1000, 1800, '   '), cap('c', 2000, 2600, 'x < y & z')];
    const cues = captions.map((c) => ({ startMs: c.startMs!, endMs: c.endMs!, text: c.text }));
    expect(toWebVtt(captions)).toBe(serverFormats.toWebVtt(cues));
    expect(toSrt(captions)).toBe(serverFormats.toSrt(cues));
    expect(toSrt(captions)).toContain('2\n00:00:02,000 --> 00:00:02,600\nx < y & z');
  });

  it('an empty session exports a valid empty file', () => {
    expect(toWebVtt([])).toBe('WEBVTT\n');
    expect(toSrt([])).toBe('');
  });
});
