// Shared tiny fixture model for the generation tests (generated once into the fixture cache).
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { loadPhi4Model, type Phi4Model } from '../../../src/engine/phi4mm/onnx_sessions.ts';
import { loadTokenizer, type Phi4Tokenizer } from '../../../src/engine/phi4mm/tokenizer.ts';

export interface LoadedFixture {
  dir: string;
  model: Phi4Model;
  tokenizer: Phi4Tokenizer;
}

export async function loadTinyFixture(
  floatType: 'float32' | 'float16' = 'float32',
  applySpeechAdapter = true,
  layout?: 'published' | 'single-hook',
): Promise<LoadedFixture> {
  const dir = await ensureFixtureModel('tiny', 1, { floatType, layout });
  const model = await loadPhi4Model(dir, {
    sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 },
    applySpeechAdapter,
  });
  const tokenizer = await loadTokenizer(dir);
  return { dir, model, tokenizer };
}

/** Deterministic pseudo log-mel features ([frames][80]) in a plausible range. */
export function fakeFeatures(frames: number, seed: number): Float32Array {
  const data = new Float32Array(frames * 80);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 4294967296) * 8 - 2;
  }
  return data;
}
