// One chat completion on the engine: the request's turns are appended to a session (continuing a cached
// one when the messages extend an earlier conversation), the answer is generated with the request's
// sampling, stop sequences and tool choice, and a cleanly finished conversation is cached for the next.
import { randomBytes, randomInt } from 'node:crypto';
import { parseToolCalls, ToolCallTextFilter } from '../agent/tool_call_parser.ts';
import type { Checkpoint, EngineSession, GenerateOptions, SpeechEngine } from '../engine/engine_session.ts';
import { EarshotError } from '../errors.ts';
import { assistantKey, assistantText, chatTurns } from './chat_messages.ts';
import type { ChatRequest } from './chat_schema.ts';
import type { PrefixCache } from './prefix_cache.ts';
import { StopScanner } from './stop_scanner.ts';

export interface ChatToolCallOut {
  id: string;
  name: string;
  arguments: string;
}

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls';

export interface ChatResult {
  content: string;
  toolCalls: ChatToolCallOut[];
  finishReason: ChatFinishReason;
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number; audioTokens: number };
}

export interface ChatRunOptions {
  engine: SpeechEngine;
  cache: PrefixCache;
  defaultMaxTokens: number;
  maxAudioMs: number;
  signal: AbortSignal;
  /** Content as it is generated (stop sequences and tool-call markup held back). */
  onDelta?: (text: string) => void;
}

export async function runChatCompletion(req: ChatRequest, opts: ChatRunOptions): Promise<ChatResult> {
  const audioUsage = { audioTokens: 0 };
  const turns = chatTurns(req, { maxAudioMs: opts.maxAudioMs, usage: audioUsage });
  const keys = turns.map((t) => t.key);
  const cached = opts.cache.enabled ? await opts.cache.take(keys) : null;
  const session = cached?.session ?? (await opts.engine.createSession());
  let keep = false;
  try {
    const checkpoints: Checkpoint[] = cached?.checkpoints ?? [];
    const cachedTokens = session.length;
    const rebuildsBefore = session.stats().rebuilds;
    for (const turn of turns.slice(cached?.reusedTurns ?? 0)) {
      opts.signal.throwIfAborted();
      await turn.apply(session, opts.engine);
      checkpoints.push(session.checkpoint());
    }
    const promptTokens = session.length;
    const beforeAnswer = session.checkpoint();
    const generated = await generate(session, req, opts);
    const result: ChatResult = {
      ...generated.result,
      usage: { ...generated.result.usage, promptTokens, cachedTokens, audioTokens: audioUsage.audioTokens },
    };
    if (!opts.cache.enabled || session.stats().rebuilds !== rebuildsBefore) return result;
    const calls = result.toolCalls.map((c) => ({
      type: 'function' as const,
      function: { name: c.name, arguments: c.arguments },
    }));
    if (!generated.clean) {
      // The answer was cut (length, a stop sequence) or held unreadable calls: the session is made to hold
      // the answer as the client will send it back, so the cache key and the KV cache agree.
      await session.rewind(beforeAnswer);
      await session.appendAssistant(assistantText(result.content, calls));
    }
    keep = true;
    await opts.cache.put(
      [...keys, assistantKey(result.content, calls)],
      [...checkpoints, session.checkpoint()],
      session,
    );
    return result;
  } finally {
    if (!keep) await session.dispose().catch(() => undefined);
  }
}

function generateOptions(req: ChatRequest, defaultMaxTokens: number): GenerateOptions {
  const maxNewTokens = req.max_completion_tokens ?? req.max_tokens ?? defaultMaxTokens;
  const options: GenerateOptions = { maxNewTokens };
  // Greedy unless a temperature above 0 is asked for (the model card's own setting is greedy decoding).
  if (req.temperature)
    options.sampling = {
      temperature: req.temperature,
      ...(req.top_p ? { topP: req.top_p } : {}),
      seed: req.seed ?? randomInt(2 ** 31),
    };
  const names = new Set((req.tools ?? []).map((t) => t.function.name));
  const choice = req.tool_choice;
  if (names.size > 0 && choice === 'required') options.assistantPrefix = '<|tool_call|>';
  if (names.size > 0 && typeof choice === 'object' && choice) {
    if (!names.has(choice.function.name))
      throw new EarshotError('E_INVALID_REQUEST', `tool_choice names ${choice.function.name}, which is not in tools.`, {
        param: 'tool_choice',
      });
    options.assistantPrefix = `<|tool_call|>[{"name": ${JSON.stringify(choice.function.name)}, "arguments": `;
  }
  return options;
}

async function generate(
  session: EngineSession,
  req: ChatRequest,
  opts: ChatRunOptions,
): Promise<{
  result: Omit<ChatResult, 'usage'> & { usage: Pick<ChatResult['usage'], 'completionTokens'> };
  clean: boolean;
}> {
  const options = generateOptions(req, opts.defaultMaxTokens);
  const callsAllowed = (req.tools?.length ?? 0) > 0 && req.tool_choice !== 'none';
  const stops = new StopScanner(
    req.stop === undefined || req.stop === null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop,
  );
  const filter = callsAllowed ? new ToolCallTextFilter() : null;
  const local = new AbortController();
  const onAbort = () => local.abort();
  opts.signal.addEventListener('abort', onAbort);
  let raw = options.assistantPrefix ?? '';
  filter?.push(raw);
  let finish: 'stop' | 'length' | 'aborted' = 'stop';
  let completionTokens = 0;
  try {
    for await (const event of session.generate(options, local.signal)) {
      if (event.type === 'done') {
        finish = event.finishReason;
        completionTokens = event.usage.completionTokens;
        break;
      }
      const text = stops.push(event.text);
      raw += text;
      const visible = filter ? filter.push(text) : text;
      if (visible) opts.onDelta?.(visible);
      if (stops.stopped) local.abort();
    }
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  opts.signal.throwIfAborted();
  const tail = stops.flush();
  raw += tail;
  const parsed = callsAllowed ? parseToolCalls(raw) : { text: raw, calls: [] };
  const rest = filter ? filter.push(tail) + filter.finish(parsed) : tail;
  if (rest) opts.onDelta?.(rest);
  const toolCalls = parsed.calls.flatMap((c) =>
    c.ok
      ? [{ id: `call_${randomBytes(12).toString('hex')}`, name: c.name, arguments: JSON.stringify(c.arguments) }]
      : [],
  );
  const finishReason: ChatFinishReason =
    toolCalls.length > 0 ? 'tool_calls' : stops.stopped || finish !== 'length' ? 'stop' : 'length';
  const clean = finish === 'stop' && !stops.stopped && parsed.calls.every((c) => c.ok);
  return { result: { content: parsed.text, toolCalls, finishReason, usage: { completionTokens } }, clean };
}
