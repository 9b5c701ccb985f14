import { describe, expect, it } from 'vitest';
import { TurnStateMachine, type TurnEvent, type TurnParams } from '../../../src/vad/turn_state_machine.ts';

const W = 512;
const params = (over: Partial<TurnParams> = {}): TurnParams => ({
  threshold: 0.5,
  refineLookbackSamples: 0,
  windowSamples: W,
  prefixPaddingSamples: 4800,
  silenceSamples: 8000,
  minSpeechWindows: 2,
  maxUtteranceSamples: 640_000,
  splitSearchSamples: 160_000,
  minSplitPauseSamples: 1600,
  ...over,
});

function run(probs: number[], p = params()): TurnEvent[] {
  const m = new TurnStateMachine(p);
  const events: TurnEvent[] = [];
  probs.forEach((prob, i) => events.push(...m.pushWindow(i * W, prob)));
  return events;
}

const seq = (...parts: [number, number][]) => parts.flatMap(([prob, n]) => Array<number>(n).fill(prob));

describe('TurnStateMachine', () => {
  it('starts after min speech windows with prefix padding and stops after the silence duration', () => {
    const events = run(seq([0, 20], [0.9, 30], [0.1, 20]));
    expect(events).toEqual([
      { type: 'speech_started', audioStartSample: 20 * W - 4800, speechStartSample: 20 * W },
      { type: 'speech_stopped', audioEndSample: 50 * W + 8000, speechEndSample: 50 * W, reason: 'silence' },
    ]);
  });

  it('ignores a blip shorter than min speech', () => {
    expect(run(seq([0, 10], [0.9, 1], [0, 40]))).toEqual([]);
  });

  it('does not end on pauses shorter than the silence duration', () => {
    const events = run(seq([0, 5], [0.9, 10], [0, 10], [0.9, 10], [0, 20]));
    expect(events.map((e) => e.type)).toEqual(['speech_started', 'speech_stopped']);
  });

  it('prefix padding never reaches into the previous utterance', () => {
    const events = run(seq([0.9, 10], [0, 16], [0.9, 10], [0, 20]), params({ prefixPaddingSamples: 16_000 }));
    const [s1, e1, s2] = events;
    expect(s1).toMatchObject({ type: 'speech_started', audioStartSample: 0 });
    expect(e1.type).toBe('speech_stopped');
    expect(s2.type === 'speech_started' && e1.type === 'speech_stopped' && s2.audioStartSample).toBe(
      e1.type === 'speech_stopped' ? e1.audioEndSample : -1,
    );
  });

  it('splits at the middle of the last pause before the cap', () => {
    // 3 s cap, 2 s search, 100 ms pauses. Speech with a 6-window pause at windows 60..65.
    const p = params({ maxUtteranceSamples: 48_000, splitSearchSamples: 32_000, prefixPaddingSamples: 0 });
    const events = run(seq([0.9, 60], [0, 6], [0.9, 100]), p);
    const stop = events.find((e) => e.type === 'speech_stopped');
    expect(stop).toEqual({
      type: 'speech_stopped',
      audioEndSample: 63 * W,
      speechEndSample: 60 * W,
      reason: 'max_duration',
    });
    const restart = events[2];
    expect(restart).toEqual({ type: 'speech_started', audioStartSample: 63 * W, speechStartSample: 66 * W });
  });

  it('hard-cuts at the cap when there is no pause, and the next piece continues from the cut', () => {
    const p = params({ maxUtteranceSamples: 48_000, splitSearchSamples: 32_000, prefixPaddingSamples: 0 });
    const events = run(seq([0.9, 250]), p);
    const stops = events.filter((e) => e.type === 'speech_stopped');
    const starts = events.filter((e) => e.type === 'speech_started');
    expect(stops.length).toBe(2);
    expect(stops[0]).toMatchObject({ audioEndSample: 48_000, reason: 'max_duration' });
    expect(starts[1]).toMatchObject({ audioStartSample: 48_000, speechStartSample: 48_000 });
    expect(stops[1]).toMatchObject({ audioEndSample: 96_000 });
  });

  it('never lets an utterance exceed the cap, whatever the probabilities', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 50; trial++) {
      const probs: number[] = [];
      while (probs.length < 2000) {
        const speech = rnd() < 0.7;
        const n = 1 + Math.floor(rnd() * (speech ? 200 : 20));
        for (let i = 0; i < n; i++) probs.push(speech ? 0.9 : 0.1);
      }
      const p = params({ maxUtteranceSamples: 64_000, splitSearchSamples: 16_000 });
      const m = new TurnStateMachine(p);
      let start = -1;
      let lastEnd = 0;
      probs.forEach((prob, i) => {
        for (const e of m.pushWindow(i * W, prob)) {
          if (e.type === 'speech_started') {
            expect(e.audioStartSample).toBeGreaterThanOrEqual(lastEnd);
            start = e.audioStartSample;
          } else {
            expect(e.audioEndSample - start).toBeLessThanOrEqual(64_000);
            expect(e.audioEndSample).toBeGreaterThan(start);
            lastEnd = e.audioEndSample;
          }
        }
      });
    }
  });

  it('forceEnd closes speech in progress, reset drops it', () => {
    const m = new TurnStateMachine(params());
    for (let i = 0; i < 10; i++) m.pushWindow(i * W, 0.9);
    expect(m.forceEnd(10 * W + 100, 'commit')).toEqual([
      { type: 'speech_stopped', audioEndSample: 10 * W + 100, speechEndSample: 10 * W, reason: 'commit' },
    ]);
    for (let i = 11; i < 20; i++) m.pushWindow(i * W, 0.9);
    expect(m.speaking).toBe(true);
    m.reset(20 * W);
    expect(m.speaking).toBe(false);
    expect(m.forceEnd(21 * W, 'end_of_stream')).toEqual([]);
  });
});

describe('endpoint hooks', () => {
  it('use the refined onset and offset, with audio ranges built from them', () => {
    const m = new TurnStateMachine(params(), {
      onset: (approx, lowest) => Math.max(lowest, approx - 100),
      offset: (approx) => approx - 700,
    });
    const events: TurnEvent[] = [];
    seq([0, 20], [0.9, 30], [0.1, 20]).forEach((p, i) => events.push(...m.pushWindow(i * W, p)));
    expect(events).toEqual([
      { type: 'speech_started', audioStartSample: 20 * W - 100 - 4800, speechStartSample: 20 * W - 100 },
      { type: 'speech_stopped', audioEndSample: 50 * W - 700 + 8000, speechEndSample: 50 * W - 700, reason: 'silence' },
    ]);
  });
});
