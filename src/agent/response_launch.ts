// Starting one response: resolves its limits, tool_choice and callable tools from the request and the
// session, runs it under its own AbortController, and keeps that controller as the one running response
// that response.cancel or a barge-in aborts (control acts at once, never queued behind turns).
import { newResponseId } from '../protocol/ids.ts';
import type { ToolChoice } from '../protocol/server_session.ts';
import type { AgentDefinition } from './agent.ts';
import type { ConversationContext } from './conversation_context.ts';
import { runResponse, toolChoicePrefix, type CancelReason, type ResponseEnvironment } from './response_runner.ts';
import type { AgentRuntimeOptions, RespondOptions } from './runtime_types.ts';
import { serverToolsOf } from './session_prompt.ts';

export class ResponseLauncher {
  private active: { id: string; controller: AbortController } | null = null;

  constructor(
    /** The runtime's options object, read at call time. */
    private readonly opts: AgentRuntimeOptions,
    private readonly agent: () => AgentDefinition,
    private readonly conversationId: string,
  ) {}

  /** Aborts the running response. False when none is running. */
  cancel(reason: CancelReason): boolean {
    if (!this.active || this.active.controller.signal.aborted) return false;
    this.active.controller.abort(reason);
    return true;
  }

  async respond(context: ConversationContext, opts: RespondOptions, jobSignal: AbortSignal): Promise<void> {
    const { state, settings } = this.opts;
    const agent = this.agent();
    const controller = new AbortController();
    const onJobAbort = () => controller.abort('client_cancelled');
    jobSignal.addEventListener('abort', onJobAbort, { once: true });
    const responseId = newResponseId();
    this.active = { id: responseId, controller };
    const wireMax = opts.params?.max_output_tokens ?? opts.params?.max_response_output_tokens ?? state.maxOutputTokens;
    // 'inf' (OpenAI's default) is bounded by the context (the engine stops where the budget ends) and by the
    // operator's agent.max_output_tokens when one is configured.
    const maxOutputTokens =
      wireMax === 'inf' ? Math.min(settings.contextBudgetTokens, settings.defaultMaxOutputTokens ?? Infinity) : wireMax;
    const gen = agent.generation;
    const toolChoice = (opts.params?.tool_choice ?? state.toolChoice) as ToolChoice;
    const clientTools =
      opts.params?.tools?.flatMap((t) => (t.type === 'function' ? [t.name] : [])) ?? state.tools.map((t) => t.name);
    const callable =
      toolChoice === 'none' ? new Set<string>() : new Set([...serverToolsOf(agent).keys(), ...clientTools]);
    const assistantPrefix = toolChoicePrefix(toolChoice, callable);
    const env: ResponseEnvironment = {
      context,
      emit: this.opts.emit,
      items: this.opts.items,
      serverTools: toolChoice === 'none' ? new Map() : serverToolsOf(agent),
      clientToolNames: new Set(toolChoice === 'none' ? [] : clientTools),
      maxToolSteps: settings.maxToolSteps,
      toolTimeoutMs: settings.toolTimeoutMs,
      services: this.opts.services,
      sessionId: state.id,
      conversationId: this.conversationId,
      log: this.opts.log,
    };
    try {
      await runResponse(env, {
        responseId,
        signal: controller.signal,
        cachedTokens: opts.cachedTokens,
        rebuildsBefore: opts.rebuildsBefore,
        maxOutputTokens,
        wireMaxOutputTokens: wireMax,
        ...(gen.temperature !== undefined && gen.temperature > 0
          ? { sampling: { temperature: gen.temperature, seed: gen.seed ?? 0 } }
          : {}),
        metadata: opts.params?.metadata ?? null,
        outOfBand: opts.outOfBand,
        afterItemId: opts.afterItemId !== undefined ? opts.afterItemId : context.lastItemId(),
        speech: this.opts.speech?.(opts.params) ?? null,
        ...(assistantPrefix ? { assistantPrefix } : {}),
      });
    } finally {
      jobSignal.removeEventListener('abort', onJobAbort);
      if (this.active?.id === responseId) this.active = null;
    }
  }
}
