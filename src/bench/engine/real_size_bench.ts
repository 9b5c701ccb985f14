// The figures that decide whether a model size is usable (real-size speed), measured on one model
// loaded in this thread with the engine's default thread count. Both KV cache kinds run in the same
// process one after the other, so their ratio is measured under the same load.

import { defaultIntraOpThreads } from '../../engine/engine_host.ts';
import type { FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { loadPhi4Model } from '../../engine/phi4mm/onnx_sessions.ts';
import { loadTokenizer } from '../../engine/phi4mm/tokenizer.ts';
import { benchKvRates, decodeMatrix, type KvBenchOptions } from './kv_bench.ts';
import type { KvCacheMode } from '../../engine/phi4mm/generate.ts';
import { benchUtterance } from './utterance_bench.ts';

export interface RealSizeBenchResult {
  model_load_ms: number;
  /** Peak resident memory of the process (model + caches + the copies of this run), MiB. */
  rss_mb: number;
  threads: number;
  decode_ms_at_100: number;
  decode_ms_at_2000: number;
  /** decode_ms_at_2000 / decode_ms_at_100 with the in-place KV cache (the engine's default). */
  decode_ratio_2000_to_100: number;
  decode_ms_at_100_copy: number;
  decode_ms_at_2000_copy: number;
  /** The same ratio with the copying path, measured in the same run. */
  decode_ratio_2000_to_100_copy: number;
  decode_tok_s: number;
  prefill_tok_s: number;
  batched_decode_tok_s: number;
  prefill_tok_s_copy?: number;
  batched_decode_tok_s_copy?: number;
  /** Batch arenas formed while 4 sessions stepped together (1 or 0: caches copied once, not per step). */
  batch_arenas_formed: number;
  prefill_chunk_tokens: number;
  decode_tok_s_at_1000?: number;
  ttft_5s_utterance_ms?: number;
  caption_5s_utterance_ms?: number;
  utterance_audio_tokens?: number;
  utterance_prompt_tokens?: number;
}

/** Steps per point and warm-up per preset: the full model steps in tenths of a second. */
function optionsFor(preset: FixturePreset | undefined, progress?: (m: string) => void): KvBenchOptions {
  const full = preset === 'full';
  return {
    steps: full ? 5 : 16,
    warmupSteps: full ? 6 : 12,
    prefillChunkTokens: full ? 128 : 64,
    batchRows: 4,
    batchSteps: full ? 4 : 16,
    syntheticContext: full,
    prefillTokens: full ? 128 : 512,
    progress,
  };
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

type Points = { mode: KvCacheMode; positions: number; ms: number; tokensPerS: number }[];

function at(points: Points, mode: KvCacheMode, positions: number): { ms: number; tokensPerS: number } {
  const point = points.find((p) => p.mode === mode && p.positions === positions);
  if (point === undefined) throw new Error(`no ${mode} decode point at ${positions}`);
  return point;
}

export async function benchRealSize(
  modelDir: string,
  preset: FixturePreset | undefined,
  progress?: (m: string) => void,
): Promise<RealSizeBenchResult> {
  const threads = defaultIntraOpThreads();
  progress?.('loading the model in this thread');
  const loadStart = performance.now();
  const model = await loadPhi4Model(modelDir, { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  const modelLoadMs = performance.now() - loadStart;
  try {
    const tokenizer = await loadTokenizer(modelDir);
    const options = optionsFor(preset, progress);
    const full = preset === 'full';
    progress?.('decode steps at 100 and 2000 positions (and 1000 for full), in-place and copying KV caches in turn');
    const wanted: { mode: KvCacheMode; positions: number }[] = [
      { mode: 'in_place', positions: 100 },
      { mode: 'copy', positions: 100 },
      ...(full ? [{ mode: 'in_place' as const, positions: 1000 }] : []),
      { mode: 'in_place', positions: 2000 },
      { mode: 'copy', positions: 2000 },
    ];
    const points = await decodeMatrix(model, tokenizer, wanted, options);
    const inPlace = await benchKvRates(model, tokenizer, 'in_place', options);
    // At full size the copying path's batch adds minutes and nothing the decode points do not show.
    const copy = full ? undefined : await benchKvRates(model, tokenizer, 'copy', options);
    const ms = (mode: KvCacheMode, positions: number) => at(points, mode, positions).ms;
    const result: RealSizeBenchResult = {
      model_load_ms: round(modelLoadMs, 0),
      rss_mb: 0,
      threads,
      decode_ms_at_100: round(ms('in_place', 100)),
      decode_ms_at_2000: round(ms('in_place', 2000)),
      decode_ratio_2000_to_100: round(ms('in_place', 2000) / ms('in_place', 100), 3),
      decode_ms_at_100_copy: round(ms('copy', 100)),
      decode_ms_at_2000_copy: round(ms('copy', 2000)),
      decode_ratio_2000_to_100_copy: round(ms('copy', 2000) / ms('copy', 100), 3),
      decode_tok_s: round(at(points, 'in_place', 100).tokensPerS),
      prefill_tok_s: round(inPlace.prefillTokensPerS, 1),
      batched_decode_tok_s: round(inPlace.batchedTokensPerS),
      ...(copy
        ? {
            prefill_tok_s_copy: round(copy.prefillTokensPerS, 1),
            batched_decode_tok_s_copy: round(copy.batchedTokensPerS),
          }
        : {}),
      batch_arenas_formed: inPlace.batchArenasFormed,
      prefill_chunk_tokens: options.prefillChunkTokens,
    };
    if (full) {
      result.decode_tok_s_at_1000 = round(at(points, 'in_place', 1000).tokensPerS);
      progress?.('a 5 s utterance: speech encoder, prefill, first caption token, 20-token caption');
      const utterance = await benchUtterance(model, tokenizer, options.prefillChunkTokens);
      result.ttft_5s_utterance_ms = round(utterance.ttftMs, 0);
      result.caption_5s_utterance_ms = round(utterance.captionMs, 0);
      result.utterance_audio_tokens = utterance.audioTokens;
      result.utterance_prompt_tokens = utterance.promptTokens;
    }
    result.rss_mb = round(process.resourceUsage().maxRSS / 1024, 0);
    return result;
  } finally {
    await model.dispose();
  }
}
