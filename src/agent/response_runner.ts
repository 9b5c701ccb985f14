// One response: generate, stream the text, run tool calls, feed results back, until the model answers
// without a call, the step limit, the token budget, or a cancellation. Cancellation keeps exactly the
// text the client was sent: the session is rewound to before the generation and the said text appended.
import type { Logger } from '../observability/logger.ts';
import { newCallId, newItemId } from '../protocol/ids.ts';
import type { ConversationItem, ResponseStatus, ResponseStatusDetails } from '../protocol/server_items.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { SamplingOptions } from '../engine/engine_session.ts';
import type { ConversationContext } from './conversation_context.ts';
import type { ItemChain } from './item_chain.ts';
import { assistantMessage, emptyUsage, functionCallItem, functionCallOutputItem, responseObject } from './response_events.ts';
import type { AgentServices } from './services.ts';
import type { ServerTool } from './tool.ts';
import { parseToolCalls, ToolCallTextFilter, type ParsedAnswer, type ParsedToolCall } from './tool_call_parser.ts';
import { outcomeToJson, runToolCall } from './tool_runner.ts';
import type { ToolChoice } from '../protocol/server_session.ts';

export type CancelReason = 'turn_detected' | 'client_cancelled';

export interface ResponseEnvironment {
  context: ConversationContext;
  emit(payload: ServerEventPayload): void;
  items: ItemChain;
  serverTools: ReadonlyMap<string, ServerTool>;
  clientToolNames: ReadonlySet<string>;
  maxToolSteps: number;
  toolTimeoutMs: number;
  services: AgentServices;
  sessionId: string;
  conversationId: string;
  log: Logger;
}

export interface ResponseRequest {
  responseId: string;
  /** Aborted with a CancelReason as its reason. */
  signal: AbortSignal;
  /** Context length before this response's new input (what the KV cache already held). */
  cachedTokens: number;
  /** ConversationContext.rebuilds when cachedTokens was read. */
  rebuildsBefore?: number;
  maxOutputTokens: number;
  wireMaxOutputTokens: number | 'inf';
  sampling?: SamplingOptions;
  metadata?: Record<string, string> | null;
  outOfBand?: boolean;
  /**
   * tool_choice 'required' / a named function: the first generation starts with this text already
   * written (toolChoicePrefix); it counts as the model's output. Later rounds (after tool results) are free.
   */
  assistantPrefix?: string;
  /**
   * The item the output follows (null: first): the last item of the context it answers, so output
   * lands before audio committed while it runs, where the model's context has it too.
   */
  afterItemId?: string | null;
}

export interface ResponseResult {
  status: ResponseStatus;
  /** call_ids of client tools the client must answer. */
  clientCallIds: string[];
}

export async function runResponse(env: ResponseEnvironment, req: ResponseRequest): Promise<ResponseResult> {
  const context = env.context;
  const signal = req.signal;
  const previousIds = new Map<string, string | null>();
  const output: ConversationItem[] = [];
  const usage = emptyUsage();
  const clientCallIds: string[] = [];
  let status: ResponseStatus = 'completed';
  let details: ResponseStatusDetails | null = null;
  const base = { id: req.responseId, conversationId: env.conversationId, maxOutputTokens: req.wireMaxOutputTokens, metadata: req.metadata, outOfBand: req.outOfBand };
  env.emit({ type: 'response.created', response: responseObject({ ...base, status: 'in_progress' }) });

  let after = req.afterItemId;
  const addItem = (item: ConversationItem) => {
    const outputIndex = output.length;
    output.push(item);
    env.emit({ type: 'response.output_item.added', response_id: req.responseId, output_index: outputIndex, item });
    if (!req.outOfBand) {
      const previous = after === undefined ? env.items.append(item.id, item) : env.items.insertAfter(after, item.id, item);
      after = item.id;
      previousIds.set(item.id, previous);
      env.emit({ type: 'conversation.item.added', previous_item_id: previous, item });
    }
    return outputIndex;
  };
  const finishItem = (outputIndex: number, item: ConversationItem) => {
    output[outputIndex] = item;
    if (!req.outOfBand) env.items.put(item);
    env.emit({ type: 'response.output_item.done', response_id: req.responseId, output_index: outputIndex, item });
    if (!req.outOfBand) env.emit({ type: 'conversation.item.done', previous_item_id: previousIds.get(item.id) ?? null, item });
  };
  const cancel = () => {
    status = 'cancelled';
    details = { type: 'cancelled', reason: (signal.reason as CancelReason | undefined) ?? 'client_cancelled' };
  };

  let budget = req.maxOutputTokens;
  let cached = { tokens: req.cachedTokens, rebuilds: req.rebuildsBefore };
  // The context as it was after the last step that completed: a failure returns to it.
  let lastGood: Awaited<ReturnType<ConversationContext['checkpoint']>> | undefined;
  try {
    for (let round = 0; ; round++) {
      if (signal.aborted) {
        cancel();
        break;
      }
      const checkpoint = await context.checkpoint();
      lastGood = checkpoint;
      const before = { tokens: context.length, audio: context.audioTokens };
      const prefix = round === 0 ? (req.assistantPrefix ?? '') : '';
      const stream = await context.generate({ maxNewTokens: budget, ...(req.sampling ? { sampling: req.sampling } : {}), ...(prefix ? { assistantPrefix: prefix } : {}) }, signal);

      const filter = new ToolCallTextFilter();
      let full = prefix;
      let said = '';
      let text: { itemId: string; outputIndex: number } | null = null;
      let finish: 'stop' | 'length' | 'aborted' = 'aborted';
      let completionTokens = 0;
      let attended: { contextTokens?: number; audioTokens?: number } = {};
      const say = (delta: string) => {
        if (delta === '') return;
        if (!text) {
          const itemId = newItemId();
          text = { itemId, outputIndex: addItem(assistantMessage(itemId, null, 'in_progress')) };
          env.emit({ type: 'response.content_part.added', response_id: req.responseId, item_id: itemId, output_index: text.outputIndex, content_index: 0, part: { type: 'text', text: '' } });
        }
        said += delta;
        env.emit({ type: 'response.output_text.delta', response_id: req.responseId, item_id: text.itemId, output_index: text.outputIndex, content_index: 0, delta });
      };
      // The prefix opens call markup, so the filter holds it back like generated markup.
      say(filter.push(prefix));
      const closeText = (itemStatus: 'completed' | 'incomplete') => {
        if (!text) return;
        const ref = { response_id: req.responseId, item_id: text.itemId, output_index: text.outputIndex, content_index: 0 };
        env.emit({ type: 'response.output_text.done', ...ref, text: said });
        env.emit({ type: 'response.content_part.done', ...ref, part: { type: 'text', text: said } });
        finishItem(text.outputIndex, assistantMessage(text.itemId, said, itemStatus));
      };

      for await (const event of stream) {
        // Barge-in: not one more delta after the abort, whatever the engine still yields.
        if (signal.aborted) break;
        if (event.type === 'delta') {
          full += event.text;
          say(filter.push(event.text));
        } else {
          finish = event.finishReason;
          completionTokens = event.usage.completionTokens;
          attended = event.usage;
        }
      }
      // What this round attended to (after any rebuild), not what the session appended over its life.
      const input = Math.max(0, attended.contextTokens ?? before.tokens);
      usage.inputTokens += input;
      usage.audioTokens += Math.min(input, Math.max(0, attended.audioTokens ?? before.audio));
      usage.cachedTokens += context.cachedTokensSince(cached.tokens, cached.rebuilds, input);
      usage.outputTokens += completionTokens;
      if (signal.aborted || finish === 'aborted') {
        // Keep what the user was told and nothing after it (the engine may have run one more step).
        await context.rewind(checkpoint);
        if (said !== '') await context.appendAssistant(said, text ? [(text as { itemId: string }).itemId] : []);
        closeText('incomplete');
        cancel();
        break;
      }
      const generated = context.recordGenerated(full);
      lastGood = await context.checkpoint();
      budget -= completionTokens;
      const parsed = readableCalls(parseToolCalls(full), env.log);
      say(filter.finish(parsed));
      if (text) generated.itemIds.push((text as { itemId: string }).itemId);
      closeText(finish === 'length' && parsed.calls.length === 0 ? 'incomplete' : 'completed');
      if (parsed.calls.length === 0) {
        if (finish === 'length') {
          status = 'incomplete';
          details = { type: 'incomplete', reason: 'max_output_tokens' };
        }
        break;
      }
      cached = { tokens: context.length, rebuilds: context.rebuilds };
      const overLimit = round >= env.maxToolSteps;
      let pendingClient = false;
      for (const call of parsed.calls) {
        const isClient = call.ok && !env.serverTools.has(call.name) && env.clientToolNames.has(call.name);
        const callId = newCallId();
        generated.itemIds.push(reportCall(env, req, addItem, finishItem, call, callId));
        if (isClient && !overLimit) {
          clientCallIds.push(callId);
          pendingClient = true;
          continue;
        }
        const outcome = overLimit
          ? { status: 'error' as const, code: 'tool_error' as const, error: `Tool step limit reached (${env.maxToolSteps} rounds per response); answer with what you have.` }
          : await runToolCall(call, { tools: env.serverTools, defaultTimeoutMs: env.toolTimeoutMs, signal, log: env.log, services: env.services, sessionId: env.sessionId });
        const json = outcomeToJson(outcome);
        const outItemId = newItemId();
        await context.appendToolResponse(json, [outItemId]);
        lastGood = await context.checkpoint();
        const outIndex = addItem(functionCallOutputItem(outItemId, callId, json));
        finishItem(outIndex, functionCallOutputItem(outItemId, callId, json));
      }
      if (overLimit) {
        env.log.info({ responseId: req.responseId, maxToolSteps: env.maxToolSteps }, 'tool step limit reached');
        break;
      }
      if (pendingClient) break;
      if (budget <= 0) {
        status = 'incomplete';
        details = { type: 'incomplete', reason: 'max_output_tokens' };
        break;
      }
    }
  } catch (err) {
    // A failed step (generation, tool result, rebuild) leaves nothing half-done in the context.
    if (lastGood) await context.restore(lastGood);
    if (signal.aborted) cancel();
    else {
      env.log.error({ err }, 'response failed');
      status = 'failed';
      const code = (err as { code?: string }).code ?? 'E_ENGINE';
      details = { type: 'failed', error: { type: 'server_error', code, message: err instanceof Error ? err.message : String(err) } };
    }
  }
  env.emit({ type: 'response.done', response: responseObject({ ...base, status, statusDetails: details, output, usage }) });
  return { status, clientCallIds };
}

function reportCall(
  env: ResponseEnvironment,
  req: ResponseRequest,
  addItem: (item: ConversationItem) => number,
  finishItem: (index: number, item: ConversationItem) => void,
  call: ParsedToolCall,
  callId: string,
): string {
  const itemId = newItemId();
  const name = call.name ?? '';
  const args = call.ok ? JSON.stringify(call.arguments) : call.raw;
  const outputIndex = addItem(functionCallItem(itemId, callId, name, '', 'in_progress'));
  const ref = { response_id: req.responseId, item_id: itemId, output_index: outputIndex, call_id: callId };
  env.emit({ type: 'response.function_call_arguments.delta', ...ref, delta: args });
  env.emit({ type: 'response.function_call_arguments.done', ...ref, name, arguments: args });
  finishItem(outputIndex, functionCallItem(itemId, callId, name, args, 'completed'));
  return itemId;
}

/**
 * A call the parser cannot read is never turned into an invented call (OpenAI never reports one it did
 * not get): its markup is shown as text, as the model wrote it, and only readable calls run.
 */
export function readableCalls(parsed: ParsedAnswer, log: Logger): ParsedAnswer {
  const unreadable = parsed.calls.filter((c) => !c.ok);
  if (unreadable.length === 0) return parsed;
  log.warn({ errors: unreadable.map((c) => (c.ok ? '' : c.error)) }, 'unreadable tool call shown as text');
  const shown = [parsed.text, ...unreadable.map((c) => c.raw)].filter((t) => t !== '').join('\n');
  return { text: shown, calls: parsed.calls.filter((c) => c.ok) };
}

/**
 * The generation prefix that enforces a tool_choice: 'required' opens a call (the model must write one),
 * a named function also writes its name so the model only writes the arguments. None without tools to call.
 */
export function toolChoicePrefix(choice: ToolChoice, toolNames: ReadonlySet<string>): string {
  if (toolNames.size === 0) return '';
  if (choice === 'required') return '<|tool_call|>';
  if (typeof choice === 'object' && choice.type === 'function' && toolNames.has(choice.name)) {
    return `<|tool_call|>[{"name": ${JSON.stringify(choice.name)}, "arguments": `;
  }
  return '';
}
