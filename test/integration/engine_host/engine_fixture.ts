// Shared helpers for the engine-host tests: the tiny fixture model, deterministic audio, comparisons.
import { expect } from 'vitest';
import type { GenerationEvent } from '../../../src/engine/engine_session.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';

export const SINGLE_THREAD = { intraOpNumThreads: 1, interOpNumThreads: 1 } as const;

export function tinyModelDir(): Promise<string> {
  return ensureFixtureModel('tiny');
}

/** Deterministic speech-like samples in [-1, 1). */
export function testPcm(seconds: number, sampleRateHz: number, seed = 1): Float32Array {
  const n = Math.round(seconds * sampleRateHz);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / sampleRateHz;
    out[i] =
      0.3 * Math.sin(2 * Math.PI * (150 + 40 * seed) * t) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 1.3 * t)) +
      0.02 * (s / 2 ** 32 - 0.5);
  }
  return out;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface Collected {
  tokenIds: number[];
  deltas: number;
  done: Extract<GenerationEvent, { type: 'done' }>;
}

export async function collect(
  events: AsyncIterable<GenerationEvent>,
  onDelta?: (n: number) => void,
): Promise<Collected> {
  const tokenIds: number[] = [];
  let deltas = 0;
  for await (const e of events) {
    if (e.type === 'delta') {
      // A final delta may only complete a partial UTF-8 character (no token): count token deltas.
      if (e.tokenIds.length === 0) continue;
      tokenIds.push(...e.tokenIds);
      deltas++;
      onDelta?.(deltas);
    } else {
      return { tokenIds, deltas, done: e };
    }
  }
  throw new Error('generation ended without a done event');
}
