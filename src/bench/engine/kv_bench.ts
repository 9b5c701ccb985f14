// Decode cost against context length, with the in-place KV cache and with the copying path, on one model
// loaded in this thread (the same graphs, the same thread count, alternating nothing but the cache kind):
//   decode_ms_at_N      median of steady-state one-token steps (embedding + text graph) at N positions
//   decode_tok_s        one session's tokens/s over the steps at 100 positions
//   prefill_tok_s       a 512-token prompt fed in prefill chunks without logits, tokens/s
//   batched_decode_tok_s  4 sessions (100-140 positions) stepping as one batch, tokens/s over all rows
// Steady state: the first steps after a cache gets fresh buffers run 2-4x slower (page faults), so each
// point takes its median after warm-up steps; the points step in turn, so a shared machine's load falls
// on all of them alike.

import * as ort from 'onnxruntime-node';
import { runBatchedStep } from '../../engine/phi4mm/batched_step.ts';
import { InPlaceKvCache } from '../../engine/phi4mm/kv_cache_in_place.ts';
import { arenaStats } from '../../engine/phi4mm/batched_step_in_place.ts';
import { GenerationSession, type KvCacheMode } from '../../engine/phi4mm/generate.ts';
import type { Phi4Model } from '../../engine/phi4mm/onnx_sessions.ts';
import type { Phi4Tokenizer } from '../../engine/phi4mm/tokenizer.ts';

export interface DecodePoint {
  positions: number;
  ms: number;
  tokensPerS: number;
}

export interface KvBenchOptions {
  /** Steps timed at each point (after `warmupSteps`). */
  steps: number;
  warmupSteps: number;
  prefillChunkTokens: number;
  batchRows: number;
  batchSteps: number;
  /**
   * Fill contexts with zero KV entries instead of prefilling them (full preset: 2000 tokens of prefill
   * take many minutes on 2 cores). A step's cost depends on the context's length, not its values.
   */
  syntheticContext?: boolean;
  /** Tokens of the prefill-rate prompt (default 512). */
  prefillTokens?: number;
  progress?: (message: string) => void;
}

export interface KvRates {
  prefillTokensPerS: number;
  batchedTokensPerS: number;
  /** Batch arenas formed during the batched run (in place: 1 = the caches were copied once, not per step). */
  batchArenasFormed: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Prompt-like ids (ordinary tokens, no specials). */
function promptIds(length: number, seed: number): number[] {
  return Array.from({ length }, (_, j) => 300 + ((j * 7919 + seed * 104729) % 60000));
}

/**
 * Decode points of several cache kinds, measured together: one session per (kind, length), prefilled,
 * then rounds of one step on each session in turn, so load from elsewhere on a shared machine falls on
 * every point alike. The first `warmupSteps` rounds are not timed.
 */
export async function decodeMatrix(
  model: Phi4Model,
  tokenizer: Phi4Tokenizer,
  points: { mode: KvCacheMode; positions: number }[],
  o: Pick<KvBenchOptions, 'steps' | 'warmupSteps' | 'prefillChunkTokens' | 'syntheticContext' | 'progress'>,
): Promise<(DecodePoint & { mode: KvCacheMode })[]> {
  const sessions = points.map(
    (p) => new GenerationSession(model, tokenizer, { kvCache: p.mode, prefillChunkTokens: o.prefillChunkTokens }),
  );
  try {
    for (const [i, p] of points.entries()) {
      o.progress?.(
        `  ${o.syntheticContext ? 'filling' : 'prefilling'} a ${p.mode} session to ${p.positions - o.warmupSteps} positions`,
      );
      await fillContext(sessions[i], p.positions - o.warmupSteps, p.positions, o.syntheticContext);
    }
    o.progress?.(`  ${o.warmupSteps} warm-up and ${o.steps} timed rounds of one step per session`);
    const times = points.map(() => [] as number[]);
    for (let round = 0; round < o.warmupSteps + o.steps; round++) {
      for (const [i, session] of sessions.entries()) {
        const start = performance.now();
        await session.append([1000 + round]);
        if (round >= o.warmupSteps) times[i].push(performance.now() - start);
      }
    }
    return points.map((p, i) => ({
      ...p,
      ms: median(times[i]),
      tokensPerS: (times[i].length * 1000) / times[i].reduce((a, b) => a + b, 0),
    }));
  } finally {
    for (const s of sessions) s.dispose();
  }
}

/** Brings `session` to `positions` tokens: a real prefill, or zero KV entries (syntheticContext). */
async function fillContext(
  session: GenerationSession,
  positions: number,
  seed: number,
  synthetic: boolean | undefined,
): Promise<void> {
  const missing = positions - session.length;
  if (missing <= 0) return;
  if (!synthetic) {
    await session.append(promptIds(missing, seed), [], undefined, { logits: false });
    return;
  }
  const cache = session.cache;
  if (cache instanceof InPlaceKvCache) {
    cache.reserve(missing);
    cache.commit(missing);
    return;
  }
  const { numLayers, numKvHeads, headSize, floatType } = cache.layout;
  const zeros = (): ort.Tensor => {
    const n = numKvHeads * positions * headSize;
    return floatType === 'float32'
      ? new ort.Tensor('float32', new Float32Array(n), [1, numKvHeads, positions, headSize])
      : new ort.Tensor('float16', new Uint16Array(n), [1, numKvHeads, positions, headSize]);
  };
  const outputs: Record<string, ort.Tensor> = {};
  for (let i = 0; i < numLayers; i++) {
    outputs[cache.layout.presentKeyName(i)] = zeros();
    outputs[cache.layout.presentValueName(i)] = zeros();
  }
  cache.update(outputs, missing);
}

async function prefillRate(
  model: Phi4Model,
  tokenizer: Phi4Tokenizer,
  mode: KvCacheMode,
  chunk: number,
  tokens: number,
): Promise<number> {
  const session = new GenerationSession(model, tokenizer, { kvCache: mode, prefillChunkTokens: chunk });
  try {
    await session.append(promptIds(chunk, 7), [], undefined, { logits: false }); // warm-up run
    const start = performance.now();
    await session.append(promptIds(tokens, 8), [], undefined, { logits: false });
    return (tokens * 1000) / (performance.now() - start);
  } finally {
    session.dispose();
  }
}

async function batchedRate(
  model: Phi4Model,
  tokenizer: Phi4Tokenizer,
  mode: KvCacheMode,
  o: KvBenchOptions,
): Promise<{ tokensPerS: number; arenas: number }> {
  const { batchRows: rows, batchSteps: steps } = o;
  const sessions = Array.from(
    { length: rows },
    () => new GenerationSession(model, tokenizer, { kvCache: mode, prefillChunkTokens: o.prefillChunkTokens }),
  );
  try {
    for (const [i, s] of sessions.entries()) await fillContext(s, 100 + 13 * i, 20 + i, o.syntheticContext);
    const step = async (token: number) => {
      const batch = await Promise.all(
        sessions.map(async (s) => ({ cache: s.cache, embeds: await s.embed([token]), loraFeeds: {} })),
      );
      await runBatchedStep(model, batch);
    };
    for (let i = 0; i < 3; i++) await step(500 + i); // warm-up (and, in place, the arena's one copy)
    const arenasBefore = arenaStats.formed;
    const start = performance.now();
    for (let i = 0; i < steps; i++) await step(600 + i);
    return {
      tokensPerS: (rows * steps * 1000) / (performance.now() - start),
      arenas: arenaStats.formed - arenasBefore,
    };
  } finally {
    for (const s of sessions) s.dispose();
  }
}

/** Prefill and batched-step rates of one cache kind. */
export async function benchKvRates(
  model: Phi4Model,
  tokenizer: Phi4Tokenizer,
  mode: KvCacheMode,
  o: KvBenchOptions,
): Promise<KvRates> {
  o.progress?.(`${mode} KV cache: prefill rate`);
  const prefillTokensPerS = await prefillRate(model, tokenizer, mode, o.prefillChunkTokens, o.prefillTokens ?? 512);
  o.progress?.(`${mode} KV cache: ${o.batchRows} sessions stepping as one batch`);
  const batched = await batchedRate(model, tokenizer, mode, o);
  return { prefillTokensPerS, batchedTokensPerS: batched.tokensPerS, batchArenasFormed: batched.arenas };
}
