import { describe, expect, it } from 'vitest';
import { LatencyMeter, medianMs } from '../../../client/core/latency_meter.ts';
import { completed, delta, started, stopped, textDelta } from './client_events.ts';

describe('LatencyMeter', () => {
  it('measures speech_stopped -> first caption text and -> first answer text on the client clock', () => {
    let now = 1000;
    const meter = new LatencyMeter(() => now);
    meter.apply(started('a', 0));
    expect(meter.latest()).toBeNull();
    now = 2000;
    meter.apply(stopped('a', 900));
    now = 2150;
    meter.apply(delta('a', ''));
    now = 2240;
    expect(meter.apply(delta('a', 'hi'))).toEqual({ itemId: 'a', captionMs: 240, answerMs: null });
    now = 2300;
    meter.apply(completed('a', 'hi there'));
    expect(meter.latest()).toEqual({ kind: 'caption', ms: 240 });
    now = 2600;
    expect(meter.apply(textDelta('resp_1', 'item_r', 'Sure'))).toEqual({ itemId: 'a', captionMs: 240, answerMs: 600 });
    now = 2700;
    expect(meter.apply(textDelta('resp_1', 'item_r', ' thing'))).toBeNull();
    expect(meter.latest()).toEqual({ kind: 'answer', ms: 600 });
  });

  it('attributes an answer to the newest utterance, and ignores text for unknown items', () => {
    let now = 0;
    const meter = new LatencyMeter(() => now);
    expect(meter.apply(completed('ghost', 'x'))).toBeNull();
    meter.apply(stopped('a', 500));
    now = 100;
    meter.apply(stopped('b', 1500));
    now = 400;
    meter.apply(textDelta('r', 'i', 'x'));
    expect(meter.all()).toEqual([
      { itemId: 'a', captionMs: null, answerMs: null },
      { itemId: 'b', captionMs: null, answerMs: 300 },
    ]);
  });

  it('medianMs skips missing readings', () => {
    expect(medianMs([null, 300, 100, 200])).toBe(200);
    expect(medianMs([100, 200])).toBe(150);
    expect(medianMs([null])).toBeNull();
  });
});
