// `earshot bench engine`: engine overhead and the value of the persistent KV cache, on a generated
// fixture model (tiny or bench preset) or a real export. Figures, not tests: they depend on the machine.
//   loop_vs_raw_ratio      Earshot decode tokens/s (through the worker) / a bare onnxruntime loop
//   kv_reuse_speedup       time to first token at turn 8 (~250-token turns): re-prefill all / persistent
//   event_loop_lag_ms_p99  main-thread event-loop delay while 4 sessions generate
//   features_40s_ms        log-mel front end on 40 s of audio (median)
//   batch_speedup          tokens/s of 16 sessions decoding at once, batched steps / batching off
// plus the real-size keys of real_size_bench.ts (decode_ms_at_100/2000 with both KV cache kinds, ...).
// The full preset runs only those: the keys above load the model twice (worker + bare loop) and run
// 16 sessions, which at Phi-4-mini size is 12+ GB and many minutes for figures the smaller presets give.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createEngineHost, defaultIntraOpThreads, type EngineHost } from '../../engine/engine_host.ts';
import type { EngineSession, GenerationEvent } from '../../engine/engine_session.ts';
import { benchFeatures } from '../features_bench.ts';
import { ensureFixtureModel, type FixturePreset } from '../../engine/phi4mm/fixture/index.ts';
import { loadPhi4Model } from '../../engine/phi4mm/onnx_sessions.ts';
import { loadTokenizer, type Phi4Tokenizer } from '../../engine/phi4mm/tokenizer.ts';
import { TOKEN_ID } from '../../engine/phi4mm/tokenizer_ids.ts';
import { systemIds, userIds } from '../../engine/phi4_session_turns.ts';
import { benchBatchedDecode, type BatchBenchResult } from './batch_bench.ts';
import { rawDecode } from './raw_decode.ts';
import { benchRealSize, type RealSizeBenchResult } from './real_size_bench.ts';
import { benchAdapterStep, type AdapterBenchResult } from './adapter_bench.ts';

export interface EngineBenchOptions {
  preset?: FixturePreset;
  /** A model directory instead of a generated fixture. */
  modelDir?: string;
  decodeTokens?: number;
  turnTokens?: number;
  turns?: number;
  /** Alternated decode measurements of each kind (default 5). */
  repeats?: number;
  progress?: (message: string) => void;
}

export interface LegacyEngineBenchResult {
  loop_vs_raw_ratio: number;
  kv_reuse_speedup: number;
  event_loop_lag_ms_p99: number;
  features_40s_ms: number;
  model: string;
  decode_tokens: number;
  earshot_decode_tokens_per_s: number;
  raw_decode_tokens_per_s: number;
  ttft_persistent_ms: number;
  ttft_reprefill_ms: number;
  history_tokens: number;
  /** Prefill speed: the re-prefilled history divided by its time to first token. */
  prefill_tokens_per_s: number;
  concurrent_sessions: number;
  batch_speedup: number;
  batched: BatchBenchResult;
  /** Decode step with the speech adapter applied / with no LoRA branches (adapter_bench.ts). */
  adapter_step_ratio: number | null;
  adapter: AdapterBenchResult;
}

const SYSTEM = 'You are a helpful travel assistant. Answer briefly.';
const PROSE =
  'We would like to travel from Lisbon to Porto next week, stopping in Coimbra for a night, and we need a quiet hotel near the old town with breakfast included, a table for dinner on Friday and advice about the train times. ';

/** Literal text of about `tokens` tokens. */
function textOfTokens(tokenizer: Phi4Tokenizer, tokens: number, salt: number): string {
  let text = `Turn ${salt}. `;
  while (tokenizer.encodeLiteral(text).length < tokens) text += PROSE;
  return tokenizer.decode(tokenizer.encodeLiteral(text).slice(0, tokens));
}

async function firstDelta(events: AsyncIterable<GenerationEvent>): Promise<void> {
  for await (const e of events) if (e.type === 'delta' || e.type === 'done') return;
}

async function drain(
  events: AsyncIterable<GenerationEvent>,
  onDelta?: () => void,
): Promise<Extract<GenerationEvent, { type: 'done' }>> {
  for await (const e of events) {
    if (e.type === 'done') return e;
    onDelta?.();
  }
  throw new Error('generation ended without done');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

/** Decode tokens/s through the host: time from the first delta to done covers decodeTokens - 1 steps. */
async function earshotDecode(host: EngineHost, userText: string, decodeTokens: number): Promise<number> {
  const session = await host.createSession();
  try {
    await session.appendSystem({ instructions: SYSTEM });
    await session.appendUser([{ type: 'text', text: userText }]);
    let start = 0;
    let deltas = 0;
    const done = await drain(session.generate({ maxNewTokens: decodeTokens, stopIds: [] }), () => {
      if (deltas++ === 0) start = performance.now();
    });
    const ms = performance.now() - start;
    if (done.usage.completionTokens !== decodeTokens)
      throw new Error(`expected ${decodeTokens} tokens, got ${done.usage.completionTokens}`);
    return ((decodeTokens - 1) * 1000) / ms;
  } finally {
    await session.dispose();
  }
}

async function buildHistory(session: EngineSession, turns: string[][], upTo: number): Promise<void> {
  await session.appendSystem({ instructions: SYSTEM });
  for (let i = 0; i < upTo; i++) {
    await session.appendUser([{ type: 'text', text: turns[i][0] }]);
    await session.appendAssistant(turns[i][1]);
  }
}

async function ttft(session: EngineSession, userText: string): Promise<number> {
  const start = performance.now();
  await session.appendUser([{ type: 'text', text: userText }]);
  await firstDelta(session.generate({ maxNewTokens: 1, stopIds: [] }));
  return performance.now() - start;
}

interface KvReuseTiming {
  persistentMs: number;
  reprefillMs: number;
  historyTokens: number;
}

/**
 * Time to first token at the last of `turnCount` turns, once on a session that kept its KV cache through
 * the history and once on a fresh session that must prefill the whole history first.
 */
async function measureKvReuse(
  host: EngineHost,
  tokenizer: Phi4Tokenizer,
  turnCount: number,
  turnTokens: number,
): Promise<KvReuseTiming> {
  // Each turn: a user message and an answer, together about turnTokens tokens.
  const turns = Array.from({ length: turnCount }, (_, i) => [
    textOfTokens(tokenizer, Math.round(turnTokens * 0.8), i),
    textOfTokens(tokenizer, Math.round(turnTokens * 0.2) - 2, i + 100),
  ]);
  const persistent = await host.createSession();
  await buildHistory(persistent, turns, turnCount - 1);
  const historyTokens = persistent.length;
  const persistentMs = await ttft(persistent, turns[turnCount - 1][0]);
  await persistent.dispose();
  const fresh = await host.createSession();
  const start = performance.now();
  await buildHistory(fresh, turns, turnCount - 1);
  await fresh.appendUser([{ type: 'text', text: turns[turnCount - 1][0] }]);
  await firstDelta(fresh.generate({ maxNewTokens: 1, stopIds: [] }));
  const reprefillMs = performance.now() - start;
  await fresh.dispose();
  return { persistentMs, reprefillMs, historyTokens };
}

/** p99 main-thread event-loop delay (ms) while `concurrent` sessions generate through the worker. */
async function measureEventLoopLag(
  host: EngineHost,
  tokenizer: Phi4Tokenizer,
  concurrent: number,
  decodeTokens: number,
): Promise<number> {
  const sessions = await Promise.all(Array.from({ length: concurrent }, () => host.createSession()));
  for (const [i, s] of sessions.entries()) await s.appendUser([{ type: 'text', text: textOfTokens(tokenizer, 30, i) }]);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await Promise.all(sessions.map((s) => drain(s.generate({ maxNewTokens: decodeTokens, stopIds: [] }))));
  histogram.disable();
  const lagP99Ms = histogram.percentile(99) / 1e6;
  await Promise.all(sessions.map((s) => s.dispose()));
  return lagP99Ms;
}

export type EngineBenchResult = RealSizeBenchResult & Partial<LegacyEngineBenchResult> & { model: string };

export async function benchEngine(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const progress = options.progress ?? (() => undefined);
  const preset = options.preset ?? 'tiny';
  const modelDir =
    options.modelDir ??
    (progress(`generating/locating the ${preset} fixture model`),
    await ensureFixtureModel(preset, undefined, { onProgress: progress }));
  const realSize = await benchRealSize(modelDir, options.modelDir === undefined ? preset : undefined, progress);
  const model = options.modelDir ?? `fixture:${preset}`;
  if (preset === 'full' && options.modelDir === undefined) return { model, ...realSize };
  return { ...realSize, ...(await benchLegacy(modelDir, options, progress)), model };
}

async function benchLegacy(
  modelDir: string,
  options: EngineBenchOptions,
  progress: (m: string) => void,
): Promise<LegacyEngineBenchResult> {
  const preset = options.preset ?? 'tiny';
  const decodeTokens = options.decodeTokens ?? 32;
  const turnTokens = options.turnTokens ?? 250;
  const turnCount = options.turns ?? 8;
  const tokenizer = await loadTokenizer(modelDir);
  const userText = textOfTokens(tokenizer, 40, 0);

  progress('loading the engine worker and, in this thread, the same graphs for the bare loop');
  // Both sides with the same onnxruntime thread count (the engine's default: all cores but one), so the
  // ratio measures Earshot's overhead, not a different thread budget.
  const threads = defaultIntraOpThreads();
  const host = createEngineHost({ modelDir, intraOpNumThreads: threads });
  const model = await loadPhi4Model(modelDir, { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  const promptIds = [
    ...systemIds(tokenizer, SYSTEM),
    ...userIds(tokenizer, [{ type: 'text', text: userText }]).ids,
    TOKEN_ID.assistant,
  ];
  const maxTokenId = Math.min(tokenizer.maxRealTokenId, model.io.vocabSize - 1);
  const earshotRuns: number[] = [];
  const rawRuns: number[] = [];
  let persistentMs: number;
  let reprefillMs: number;
  let historyTokens: number;
  let lagP99Ms: number;
  const concurrent = 4;
  try {
    await host.ready;
    progress('decode: Earshot through the worker and the bare loop, alternated (the machine is shared, so medians)');
    await earshotDecode(host, userText, 4); // warm-up
    await rawDecode(model, promptIds, 4, maxTokenId);
    for (let rep = 0; rep < (options.repeats ?? 5); rep++) {
      earshotRuns.push(await earshotDecode(host, userText, decodeTokens));
      rawRuns.push((await rawDecode(model, promptIds, decodeTokens, maxTokenId)).tokensPerSecond);
    }
    await model.dispose();

    progress(`time to first token at turn ${turnCount} (${turnTokens}-token turns)`);
    ({ persistentMs, reprefillMs, historyTokens } = await measureKvReuse(host, tokenizer, turnCount, turnTokens));

    progress(`event-loop lag while ${concurrent} sessions generate`);
    lagP99Ms = await measureEventLoopLag(host, tokenizer, concurrent, decodeTokens);
  } finally {
    await host.close();
    await model.dispose();
  }
  const earshotTps = median(earshotRuns);
  const rawTps = median(rawRuns);

  progress('16 sessions decoding at once: batched steps, then batching off');
  const batched = await benchBatchedDecode(modelDir, threads);
  const adapter = await benchAdapterStep(modelDir, threads, { progress });
  progress('audio front end');
  const features = benchFeatures();
  return {
    loop_vs_raw_ratio: round(earshotTps / rawTps, 3),
    kv_reuse_speedup: round(reprefillMs / persistentMs, 2),
    event_loop_lag_ms_p99: round(lagP99Ms, 2),
    features_40s_ms: features.ms_p50,
    model: options.modelDir ?? `fixture:${preset}`,
    decode_tokens: decodeTokens,
    earshot_decode_tokens_per_s: round(earshotTps, 1),
    raw_decode_tokens_per_s: round(rawTps, 1),
    ttft_persistent_ms: round(persistentMs, 1),
    ttft_reprefill_ms: round(reprefillMs, 1),
    history_tokens: historyTokens,
    prefill_tokens_per_s: round(historyTokens / (reprefillMs / 1000), 1),
    concurrent_sessions: concurrent,
    batch_speedup: batched.batch_speedup,
    batched,
    adapter_step_ratio: adapter.adapter_step_ratio,
    adapter,
  };
}
