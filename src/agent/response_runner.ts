// One response: generate, stream the text, run tool calls, feed results back, until the model answers
// without a call, the step limit, the token budget, or a cancellation. Cancellation keeps exactly the
// text the client was sent: the session is rewound to before the generation and the said text appended.
import type { Logger } from '../observability/logger.ts';
import { newCallId, newItemId } from '../protocol/ids.ts';
import type { ConversationItem, ResponseStatus, ResponseStatusDetails } from '../protocol/server_items.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { FinishReason, GenerationEvent, SamplingOptions } from '../engine/engine_session.ts';
import type { ConversationContext } from './conversation_context.ts';
import type { ItemChain } from './item_chain.ts';
import { emptyUsage, functionCallItem, functionCallOutputItem, responseObject } from './response_events.ts';
import { RoundText, type OutputItems } from './response_round_text.ts';
import { endAnswerAudio, type AnswerSpeech } from './spoken_answer.ts';
import type { SpokenRecord } from './spoken_record.ts';
import type { AgentServices } from './services.ts';
import type { ServerTool } from './tool.ts';
import { parseToolCalls, type ParsedAnswer, type ParsedToolCall } from './tool_call_parser.ts';
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
  /** How the response speaks (output_modalities ["audio"]); null or absent: a text response. */
  speech?: AnswerSpeech | null;
}

export interface ResponseResult {
  status: ResponseStatus;
  /** call_ids of client tools the client must answer. */
  clientCallIds: string[];
}

export async function runResponse(env: ResponseEnvironment, req: ResponseRequest): Promise<ResponseResult> {
  return new ResponseRun(env, req).run();
}

type ContextCheckpoint = Awaited<ReturnType<ConversationContext['checkpoint']>>;
/** What a generation round's stream ended with. */
interface RoundEnd {
  finish: FinishReason;
  completionTokens: number;
  attended: { contextTokens?: number; audioTokens?: number };
}
/** After a round: another round (tool results to answer) or the response is over. */
type RoundOutcome = 'next' | 'stop';

/**
 * The state of one response across its rounds (generate, then run the calls it made), with one method
 * per phase. A round that ends the response sets `status`/`details` and returns 'stop'.
 */
class ResponseRun implements OutputItems {
  readonly responseId: string;
  readonly speech: AnswerSpeech | null;
  /** A message of this response was spoken: the player is told when the response has no more audio. */
  private spokeAudio = false;
  private readonly context: ConversationContext;
  readonly signal: AbortSignal;
  private readonly output: ConversationItem[] = [];
  /** The conversation item each output item was inserted after (for conversation.item.done). */
  private readonly previousIds = new Map<string, string | null>();
  private readonly usage = emptyUsage();
  private readonly clientCallIds: string[] = [];
  private status: ResponseStatus = 'completed';
  private details: ResponseStatusDetails | null = null;
  /** The item the next output item follows (undefined: appended at the end). */
  private after: string | null | undefined;
  private budgetTokens: number;
  /** The context length (and rebuild count) the KV cache held before this round's input. */
  private cached: { tokens: number; rebuilds: number | undefined };
  /** The context as it was after the last step that completed: a failure returns to it. */
  private lastGood: ContextCheckpoint | undefined;

  constructor(
    private readonly env: ResponseEnvironment,
    private readonly req: ResponseRequest,
  ) {
    this.responseId = req.responseId;
    this.speech = req.speech ?? null;
    this.context = env.context;
    this.signal = req.signal;
    this.after = req.afterItemId;
    this.budgetTokens = req.maxOutputTokens;
    this.cached = { tokens: req.cachedTokens, rebuilds: req.rebuildsBefore };
  }

  async run(): Promise<ResponseResult> {
    this.emit({ type: 'response.created', response: responseObject({ ...this.base(), status: 'in_progress' }) });
    try {
      for (let round = 0; ; round++) {
        if (this.signal.aborted) {
          this.cancel();
          break;
        }
        if ((await this.runRound(round)) === 'stop') break;
      }
    } catch (err) {
      await this.fail(err);
    }
    if (this.spokeAudio) endAnswerAudio(this.speech, this.responseId);
    const response = responseObject({
      ...this.base(),
      status: this.status,
      statusDetails: this.details,
      output: this.output,
      usage: this.usage,
    });
    this.emit({ type: 'response.done', response });
    return { status: this.status, clientCallIds: this.clientCallIds };
  }

  emit(payload: ServerEventPayload): void {
    this.env.emit(payload);
  }

  addItem(item: ConversationItem): number {
    const outputIndex = this.output.length;
    this.output.push(item);
    this.emit({ type: 'response.output_item.added', response_id: this.responseId, output_index: outputIndex, item });
    if (!this.req.outOfBand) {
      const items = this.env.items;
      const previous =
        this.after === undefined ? items.append(item.id, item) : items.insertAfter(this.after, item.id, item);
      this.after = item.id;
      this.previousIds.set(item.id, previous);
      this.emit({ type: 'conversation.item.added', previous_item_id: previous, item });
    }
    return outputIndex;
  }

  spoken(itemId: string, record: SpokenRecord): void {
    this.spokeAudio = true;
    if (!this.req.outOfBand) this.env.items.setSpoken(itemId, record);
  }

  finishItem(outputIndex: number, item: ConversationItem): void {
    this.output[outputIndex] = item;
    if (!this.req.outOfBand) this.env.items.put(item);
    this.emit({ type: 'response.output_item.done', response_id: this.responseId, output_index: outputIndex, item });
    if (!this.req.outOfBand)
      this.emit({ type: 'conversation.item.done', previous_item_id: this.previousIds.get(item.id) ?? null, item });
  }

  private base() {
    const req = this.req;
    return {
      id: req.responseId,
      conversationId: this.env.conversationId,
      maxOutputTokens: req.wireMaxOutputTokens,
      metadata: req.metadata,
      outOfBand: req.outOfBand,
      ...(this.speech ? { outputModalities: ['audio' as const] } : {}),
    };
  }

  /** One round: generate and stream the text, then run the calls it made. */
  private async runRound(round: number): Promise<RoundOutcome> {
    const context = this.context;
    const checkpoint = await context.checkpoint();
    this.lastGood = checkpoint;
    const before = { tokens: context.length, audio: context.audioTokens };
    const prefix = round === 0 ? (this.req.assistantPrefix ?? '') : '';
    const stream = await context.generate(
      {
        maxNewTokens: this.budgetTokens,
        ...(this.req.sampling ? { sampling: this.req.sampling } : {}),
        ...(prefix ? { assistantPrefix: prefix } : {}),
      },
      this.signal,
    );
    const text = new RoundText(this, prefix);
    const end = await this.streamText(stream, text);
    this.countUsage(before, end);
    if (this.signal.aborted || end.finish === 'aborted') {
      await this.keepSaid(checkpoint, text);
      return 'stop';
    }
    const generated = context.recordGenerated(text.full);
    this.lastGood = await context.checkpoint();
    this.budgetTokens -= end.completionTokens;
    const parsed = readableCalls(parseToolCalls(text.full), this.env.log);
    text.finish(parsed);
    if (text.itemId) generated.itemIds.push(text.itemId);
    await text.close(end.finish === 'length' && parsed.calls.length === 0 ? 'incomplete' : 'completed');
    // Cancelled while the answer's audio was still being synthesised: the text is all in the context
    // (conversation.item.truncate cuts it to what was heard), the response ends as cancelled.
    if (this.signal.aborted) {
      this.cancel();
      return 'stop';
    }
    if (parsed.calls.length === 0) {
      if (end.finish === 'length') this.incomplete();
      return 'stop';
    }
    this.cached = { tokens: context.length, rebuilds: context.rebuilds };
    return this.runCalls(round, parsed.calls, generated.itemIds);
  }

  private async streamText(stream: AsyncIterable<GenerationEvent>, text: RoundText): Promise<RoundEnd> {
    const end: RoundEnd = { finish: 'aborted', completionTokens: 0, attended: {} };
    for await (const event of stream) {
      // Barge-in: not one more delta after the abort, whatever the engine still yields.
      if (this.signal.aborted) break;
      if (event.type === 'delta') text.push(event.text);
      else {
        end.finish = event.finishReason;
        end.completionTokens = event.usage.completionTokens;
        end.attended = event.usage;
      }
    }
    return end;
  }

  /** What this round attended to (after any rebuild), not what the session appended over its life. */
  private countUsage(before: { tokens: number; audio: number }, end: RoundEnd): void {
    const input = Math.max(0, end.attended.contextTokens ?? before.tokens);
    this.usage.inputTokens += input;
    this.usage.audioTokens += Math.min(input, Math.max(0, end.attended.audioTokens ?? before.audio));
    this.usage.cachedTokens += this.context.cachedTokensSince(this.cached.tokens, this.cached.rebuilds, input);
    this.usage.outputTokens += end.completionTokens;
  }

  /** A cancelled round keeps what the user was told and nothing after it (the engine may have run one more step). */
  private async keepSaid(checkpoint: ContextCheckpoint, text: RoundText): Promise<void> {
    await this.context.rewind(checkpoint);
    if (text.said !== '') await this.context.appendAssistant(text.said, text.itemId ? [text.itemId] : []);
    await text.close('incomplete');
    this.cancel();
  }

  /** Reports the round's calls and runs the server tools; client tools wait for the client's answer. */
  private async runCalls(round: number, calls: ParsedToolCall[], generatedItemIds: string[]): Promise<RoundOutcome> {
    const env = this.env;
    const overLimit = round >= env.maxToolSteps;
    let pendingClient = false;
    for (const call of calls) {
      const isClient = call.ok && !env.serverTools.has(call.name) && env.clientToolNames.has(call.name);
      const callId = newCallId();
      generatedItemIds.push(this.reportCall(call, callId));
      if (isClient && !overLimit) {
        this.clientCallIds.push(callId);
        pendingClient = true;
        continue;
      }
      await this.answerCall(call, callId, overLimit);
    }
    if (overLimit) {
      env.log.info({ responseId: this.responseId, maxToolSteps: env.maxToolSteps }, 'tool step limit reached');
      return 'stop';
    }
    if (pendingClient) return 'stop';
    if (this.budgetTokens <= 0) {
      this.incomplete();
      return 'stop';
    }
    return 'next';
  }

  private reportCall(call: ParsedToolCall, callId: string): string {
    const itemId = newItemId();
    const name = call.name ?? '';
    const args = call.ok ? JSON.stringify(call.arguments) : call.raw;
    const outputIndex = this.addItem(functionCallItem(itemId, callId, name, '', 'in_progress'));
    const ref = { response_id: this.responseId, item_id: itemId, output_index: outputIndex, call_id: callId };
    this.emit({ type: 'response.function_call_arguments.delta', ...ref, delta: args });
    this.emit({ type: 'response.function_call_arguments.done', ...ref, name, arguments: args });
    this.finishItem(outputIndex, functionCallItem(itemId, callId, name, args, 'completed'));
    return itemId;
  }

  /** Runs a server tool (or refuses it past the step limit) and feeds the result back to the model. */
  private async answerCall(call: ParsedToolCall, callId: string, overLimit: boolean): Promise<void> {
    const env = this.env;
    const outcome = overLimit
      ? {
          status: 'error' as const,
          code: 'tool_error' as const,
          error: `Tool step limit reached (${env.maxToolSteps} rounds per response); answer with what you have.`,
        }
      : await runToolCall(call, {
          tools: env.serverTools,
          defaultTimeoutMs: env.toolTimeoutMs,
          signal: this.signal,
          log: env.log,
          services: env.services,
          sessionId: env.sessionId,
        });
    const json = outcomeToJson(outcome);
    const outItemId = newItemId();
    await this.context.appendToolResponse(json, [outItemId]);
    this.lastGood = await this.context.checkpoint();
    const outIndex = this.addItem(functionCallOutputItem(outItemId, callId, json));
    this.finishItem(outIndex, functionCallOutputItem(outItemId, callId, json));
  }

  /** A failed step (generation, tool result, rebuild) leaves nothing half-done in the context. */
  private async fail(err: unknown): Promise<void> {
    if (this.lastGood) await this.context.restore(this.lastGood);
    if (this.signal.aborted) {
      this.cancel();
      return;
    }
    this.env.log.error({ err }, 'response failed');
    this.status = 'failed';
    const code = (err as { code?: string }).code ?? 'E_ENGINE';
    this.details = {
      type: 'failed',
      error: { type: 'server_error', code, message: err instanceof Error ? err.message : String(err) },
    };
  }

  private cancel(): void {
    this.status = 'cancelled';
    this.details = {
      type: 'cancelled',
      reason: (this.signal.reason as CancelReason | undefined) ?? 'client_cancelled',
    };
  }

  private incomplete(): void {
    this.status = 'incomplete';
    this.details = { type: 'incomplete', reason: 'max_output_tokens' };
  }
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
