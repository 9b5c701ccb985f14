// Aggregate decode throughput of many sessions at once, with the engine's batched one-token steps and
// with batching off (engine.batch_max_rows 1): what batching buys when many callers are captioned or
// answered together. Same model, same thread count, one host at a time.

import { createEngineHost } from '../../engine/engine_host.ts';
import type { GenerationEvent } from '../../engine/engine_session.ts';

export interface BatchBenchResult {
  sessions: number;
  tokens_per_session: number;
  batched_tokens_per_s: number;
  unbatched_tokens_per_s: number;
  batch_speedup: number;
}

async function countTokens(events: AsyncIterable<GenerationEvent>): Promise<number> {
  for await (const e of events) if (e.type === 'done') return e.usage.completionTokens;
  throw new Error('generation ended without done');
}

/** `sessions` sessions, each with a short prompt, decode `tokens` tokens at once; tokens/s over all of them. */
async function aggregateDecode(
  modelDir: string,
  threads: number,
  batchMaxRows: number,
  sessions: number,
  tokens: number,
): Promise<number> {
  const host = createEngineHost({
    modelDir,
    intraOpNumThreads: threads,
    batchMaxRows,
    maxPendingRequests: Math.max(64, 4 * sessions),
  });
  try {
    await host.ready;
    const all = await Promise.all(Array.from({ length: sessions }, () => host.createSession()));
    await Promise.all(
      all.map((s, i) =>
        s.appendUser([{ type: 'text', text: `Caller ${i}: please describe the weather in the mountains this week.` }]),
      ),
    );
    // Warm-up: one token each, so graph initialisation is not timed.
    await Promise.all(all.map((s) => countTokens(s.generate({ maxNewTokens: 1, stopIds: [] }))));
    const start = performance.now();
    const counts = await Promise.all(all.map((s) => countTokens(s.generate({ maxNewTokens: tokens, stopIds: [] }))));
    const seconds = (performance.now() - start) / 1000;
    await Promise.all(all.map((s) => s.dispose()));
    return counts.reduce((a, b) => a + b, 0) / seconds;
  } finally {
    await host.close();
  }
}

export async function benchBatchedDecode(
  modelDir: string,
  threads: number,
  options: { sessions?: number; tokens?: number } = {},
): Promise<BatchBenchResult> {
  const sessions = options.sessions ?? 16;
  const tokens = options.tokens ?? 16;
  const unbatched = await aggregateDecode(modelDir, threads, 1, sessions, tokens);
  const batched = await aggregateDecode(modelDir, threads, sessions, sessions, tokens);
  return {
    sessions,
    tokens_per_session: tokens,
    batched_tokens_per_s: Number(batched.toFixed(1)),
    unbatched_tokens_per_s: Number(unbatched.toFixed(1)),
    batch_speedup: Number((batched / unbatched).toFixed(2)),
  };
}
