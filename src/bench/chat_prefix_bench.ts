// `earshot bench chat-prefix`: time to first token of the Nth turn of a chat-completions conversation,
// with prefix reuse (the request continues the KV cache of the previous turn's request) and without
// (openai_api.prefix_cache_max_bytes 0: every request prefills the whole conversation), measured in one
// run against one engine behind two servers. Figures, not a test: nothing here asserts a speed.
import { configSchema, type EarshotConfig } from '../config/schema.ts';
import { createConfiguredEngine } from '../engine/open_engine.ts';
import { ensureFixtureModel, type FixturePreset } from '../engine/phi4mm/fixture/index.ts';
import { startServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import { percentile, round } from './stats.ts';

export interface ChatPrefixBenchOptions {
  preset: FixturePreset;
  modelDir?: string;
  turns: number;
  rounds: number;
  /** Answer length per turn, in tokens (the fixture's text never ends by itself). */
  answerTokens: number;
  progress?: (message: string) => void;
}

export interface ChatPrefixBenchResult {
  model: string;
  turns: number;
  rounds: number;
  answer_tokens: number;
  /** Prompt tokens of the last turn's request. */
  last_turn_prompt_tokens: number;
  /** Of which continued from the cache (with reuse). */
  last_turn_cached_tokens: number;
  ttft_ms_reuse_p50: number;
  ttft_ms_no_reuse_p50: number;
  /** no_reuse / reuse, medians of the same run. */
  speedup: number;
  ttft_ms_reuse_all: number[];
  ttft_ms_no_reuse_all: number[];
}

interface TurnTiming {
  ttftMs: number;
  content: string;
  promptTokens: number;
  cachedTokens: number;
}

/** One streamed request; time from sending to the first content delta. */
async function streamTurn(baseUrl: string, messages: unknown[], maxTokens: number): Promise<TurnTiming> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench',
      messages,
      max_tokens: maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!res.ok || !res.body) throw new Error(`chat completion failed: HTTP ${res.status} ${await res.text()}`);
  let ttftMs = -1;
  let content = '';
  let promptTokens = 0;
  let cachedTokens = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (!block.startsWith('data: ') || block === 'data: [DONE]') continue;
      const chunk = JSON.parse(block.slice(6)) as {
        choices: { delta: { content?: string } }[];
        usage?: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } };
      };
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        if (ttftMs < 0) ttftMs = performance.now() - started;
        content += delta;
      }
      if (chunk.usage) {
        promptTokens = chunk.usage.prompt_tokens;
        cachedTokens = chunk.usage.prompt_tokens_details.cached_tokens;
      }
    }
  }
  return { ttftMs, content, promptTokens, cachedTokens };
}

/** A conversation of `turns` user turns; returns the last turn's timing. */
async function conversation(baseUrl: string, round: number, opts: ChatPrefixBenchOptions): Promise<TurnTiming> {
  const messages: unknown[] = [
    { role: 'system', content: `You are a concise travel assistant (benchmark round ${round}).` },
  ];
  let last: TurnTiming | undefined;
  for (let turn = 1; turn <= opts.turns; turn++) {
    messages.push({
      role: 'user',
      content: `Turn ${turn}: which train should I take from Lyon to Paris on day ${turn}, and what should I pack?`,
    });
    last = await streamTurn(baseUrl, messages, opts.answerTokens);
    messages.push({ role: 'assistant', content: last.content });
  }
  return last!;
}

export async function benchChatPrefix(opts: ChatPrefixBenchOptions): Promise<ChatPrefixBenchResult> {
  const log = (m: string) => opts.progress?.(m);
  const modelDir = opts.modelDir ?? (await ensureFixtureModel(opts.preset));
  const base = (reuse: boolean): EarshotConfig =>
    configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      store: { path: ':memory:' },
      agent: { data_dir: ':memory:' },
      limits: { max_event_loop_delay_ms: 0 },
      openai_api: reuse ? {} : { prefix_cache_max_bytes: 0 },
    });
  log(`loading the engine (${opts.modelDir ?? `fixture ${opts.preset}`})`);
  const engine = createConfiguredEngine(base(true), { modelDir });
  await engine.ready;
  const withReuse = await startServer(base(true), createLogger('silent'), { engine, env: {} });
  const withoutReuse = await startServer(base(false), createLogger('silent'), { engine, env: {} });
  const reuse: number[] = [];
  const noReuse: number[] = [];
  let lastReuse: TurnTiming | undefined;
  try {
    await conversation(withoutReuse.httpUrl, -1, { ...opts, turns: 2 }); // warm-up
    for (let round = 0; round < opts.rounds; round++) {
      log(`round ${round + 1}/${opts.rounds}`);
      // Alternated, so load from other processes falls on both alike.
      lastReuse = await conversation(withReuse.httpUrl, round, opts);
      reuse.push(lastReuse.ttftMs);
      noReuse.push((await conversation(withoutReuse.httpUrl, round, opts)).ttftMs);
    }
  } finally {
    await withReuse.close();
    await withoutReuse.close();
    await engine.close();
  }
  const p50Reuse = percentile(reuse, 50);
  const p50NoReuse = percentile(noReuse, 50);
  return {
    model: opts.modelDir ?? `fixture:${opts.preset}`,
    turns: opts.turns,
    rounds: opts.rounds,
    answer_tokens: opts.answerTokens,
    last_turn_prompt_tokens: lastReuse?.promptTokens ?? 0,
    last_turn_cached_tokens: lastReuse?.cachedTokens ?? 0,
    ttft_ms_reuse_p50: round(p50Reuse, 1),
    ttft_ms_no_reuse_p50: round(p50NoReuse, 1),
    speedup: round(p50NoReuse / p50Reuse, 2),
    ttft_ms_reuse_all: reuse.map((v) => round(v, 1)),
    ttft_ms_no_reuse_all: noReuse.map((v) => round(v, 1)),
  };
}
