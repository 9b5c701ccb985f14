// One connection's agent: turns (utterances, client items, manual responses) run strictly in order
// through runTurns(); control (barge-in, response.cancel) acts at once on the running response, never
// queued behind turns (style.md 4). Per utterance: encode the audio once, caption it as a rewound
// branch, then in a realtime session append the user's audio turn and answer it.
import { Subject, type Subscription } from 'rxjs';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { EarshotError, isEarshotError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { runTurns } from '../pipeline/run_turns.ts';
import type { Utterance } from '../pipeline/types.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import { newConversationId, newItemId, newResponseId } from '../protocol/ids.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { SessionState } from '../session/session_state.ts';
import type { AgentDefinition } from './agent.ts';
import { BargeInDetector } from './barge_in.ts';
import { runCaption } from './caption.ts';
import { ConversationContext, type SystemPrompt } from './conversation_context.ts';
import { applyClientItem, validateClientItem } from './client_items.ts';
import type { ItemChain } from './item_chain.ts';
import { SUMMARY_PROMPT } from './prompts.ts';
import { runResponse, toolChoicePrefix, type CancelReason, type ResponseEnvironment } from './response_runner.ts';
import type { ToolChoice } from '../protocol/server_session.ts';
import type { ToolSpec } from '../engine/engine_session.ts';
import { idlePrompt, NO_TOOLS_INSTRUCTION } from './prompts.ts';
import { checkResponseParams, referencedItem } from './response_params.ts';
import { addAudioItem } from './audio_item.ts';
import type { AgentServices } from './services.ts';
import { toToolSpec, type ServerTool } from './tool.ts';

export interface AgentRuntimeSettings {
  maxToolSteps: number;
  toolTimeoutMs: number;
  interruptMinSpeechMs: number;
  captionMaxTokens: number;
  contextBudgetTokens: number;
  defaultMaxOutputTokens: number;
}

export interface AgentRuntimeOptions {
  engine: SpeechEngine | null;
  /** Why there is no engine (E_MODEL_MISSING with the fix); required when engine is null. */
  engineUnavailable?: EarshotError;
  state: SessionState;
  agent: AgentDefinition;
  settings: AgentRuntimeSettings;
  services: AgentServices;
  items: ItemChain;
  emit(payload: ServerEventPayload): void;
  emitError(code: ErrorCode, message: string, clientEventId?: string): void;
  log: Logger;
}

/** Decoded audio of one input_audio part of a conversation.item.create message. */
export interface ItemAudioClip {
  contentIndex: number;
  samples16k: Float32Array;
  /** Telephony (G.711) input, kept at 8 kHz for the model's 8 kHz path. */
  samples8k?: Float32Array;
}

/** The silent stretch an idle timeout committed (16 kHz, the most recent part when it was long). */
export interface IdleAudio {
  itemId: string;
  pcm16k: Float32Array;
  startSample: number;
  endSample: number;
  silenceMs: number;
}

type Job =
  | { type: 'utterance'; utterance: Utterance; respond: boolean }
  | { type: 'idle'; idle: IdleAudio; respond: boolean }
  | { type: 'item'; item: WireConversationItem; itemId: string; clientEventId?: string; audio?: ItemAudioClip[] }
  | { type: 'response'; params?: WireResponseCreateParams; clientEventId?: string }
  | { type: 'delete'; itemId: string; clientEventId?: string }
  | { type: 'retrieve'; itemId: string; clientEventId?: string };

export class AgentRuntime {
  private readonly jobs = new Subject<Job>();
  private readonly subscription: Subscription;
  private context: ConversationContext | null = null;
  private active: { id: string; controller: AbortController } | null = null;
  private readonly bargeIn: BargeInDetector;
  readonly conversationId = newConversationId();
  private queued = 0;
  private drained: (() => void) | null = null;
  private agent: AgentDefinition;
  private turnsTaken = 0;
  private disposed = false;

  constructor(private readonly opts: AgentRuntimeOptions) {
    this.agent = opts.agent;
    this.bargeIn = new BargeInDetector(opts.settings.interruptMinSpeechMs);
    this.subscription = this.jobs.pipe(runTurns((job, signal) => this.run(job, signal))).subscribe({
      next: () => {
        this.queued--;
        if (this.queued === 0) this.drained?.();
      },
      error: (err: unknown) => opts.log.error({ err }, 'turn runner stopped'),
    });
  }

  /** Tokens in this connection's model context, and its budget (for rate_limits.updated). */
  get contextTokens(): number {
    return this.context?.length ?? 0;
  }

  get contextBudgetTokens(): number {
    return this.opts.settings.contextBudgetTokens;
  }

  get agentName(): string {
    return this.agent.name;
  }

  /** Switches agent (session.update `agent`): the next turn rebuilds the prompt with its instructions and tools. */
  setAgent(agent: AgentDefinition): void {
    this.agent = agent;
    this.promptChanged();
  }

  promptChanged(): void {
    this.context?.markSystemDirty();
  }

  enqueueUtterance(utterance: Utterance): void {
    this.enqueue({ type: 'utterance', utterance, respond: this.respondsToUtterances() });
  }

  /** Whether a committed utterance (or idle timeout) is answered: realtime, turn detection with create_response, a model. */
  respondsToUtterances(): boolean {
    const td = this.opts.state.turnDetection;
    // With manual turns (turn_detection null) the client asks for responses itself, as with OpenAI.
    return this.opts.state.type === 'realtime' && td !== null && td.create_response && this.opts.engine !== null;
  }

  /** turn_detection.idle_timeout_ms fired: the silent stretch becomes a user turn, answered with create_response. */
  enqueueIdleTimeout(idle: IdleAudio): void {
    this.enqueue({ type: 'idle', idle, respond: this.respondsToUtterances() });
  }

  /** conversation.item.create; the item is checked now, applied in turn order. */
  createItem(item: WireConversationItem, clientEventId?: string, audio?: ItemAudioClip[]): void {
    this.requireEngine('conversation.item.create');
    validateClientItem(item, { allowAudio: true });
    if (item.id !== undefined && this.opts.items.has(item.id)) {
      throw new EarshotError('E_INVALID_EVENT', `An item with id ${JSON.stringify(item.id)} already exists.`, { param: 'item.id' });
    }
    this.enqueue({ type: 'item', item, itemId: item.id ?? newItemId(), clientEventId, ...(audio && audio.length > 0 ? { audio } : {}) });
  }

  /** conversation.item.retrieve: answered at once for a known item, else after the queued turns (which may create it). */
  retrieveItem(itemId: string, clientEventId?: string): void {
    const item = this.opts.items.get(itemId);
    if (item) this.opts.emit({ type: 'conversation.item.retrieved', item });
    else this.enqueue({ type: 'retrieve', itemId, clientEventId });
  }

  /** conversation.item.delete: in turn order, since it changes the model's context. */
  deleteItem(itemId: string, clientEventId?: string): void {
    this.enqueue({ type: 'delete', itemId, clientEventId });
  }

  createResponse(params: WireResponseCreateParams | undefined, clientEventId?: string): void {
    if (this.opts.state.type === 'transcription') {
      throw new EarshotError('E_UNSUPPORTED_FEATURE', 'This is a transcription session: it emits transcripts and never responses.');
    }
    this.requireEngine('response.create');
    checkResponseParams(params);
    for (const [i, item] of (params?.input ?? []).entries()) {
      if (item.type === 'item_reference') {
        if (!this.opts.items.get(item.id)) throw new EarshotError('E_ITEM_NOT_FOUND', `No item ${JSON.stringify(item.id)} in the conversation.`, { param: `response.input[${i}].id` });
      } else validateClientItem(item);
    }
    this.enqueue({ type: 'response', params, clientEventId });
  }

  /** response.cancel, or a barge-in. False when no response is running. */
  cancelResponse(reason: CancelReason): boolean {
    if (!this.active || this.active.controller.signal.aborted) return false;
    this.active.controller.abort(reason);
    return true;
  }

  speechStarted(speechStartMs: number, clockMs: number): void {
    if (this.bargeIn.speechStarted(speechStartMs, clockMs)) this.interrupt();
  }

  audioClock(clockMs: number): void {
    if (this.bargeIn.clock(clockMs)) this.interrupt();
  }

  speechStopped(speechEndMs: number): void {
    if (this.bargeIn.speechStopped(speechEndMs)) this.interrupt();
  }

  /** Resolves when every queued turn has run (tests, call summaries). */
  whenIdle(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        this.drained = null;
        resolve();
      };
    });
  }

  /** The single teardown: cancels the running turn, drops queued ones, frees the engine session. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cancelResponse('client_cancelled');
    const context = this.context;
    // Queued turns still run (captions, context) but answer nobody; then the call is summarised.
    if (this.agent.summarizeOnEnd && context && this.turnsTaken > 0) {
      await this.whenIdle().catch(() => {});
      await this.summarizeCall(context).catch((err: unknown) => this.opts.log.warn({ err }, 'call summary failed'));
    }
    this.subscription.unsubscribe();
    this.jobs.complete();
    await context?.dispose();
  }

  /** Summary of the call from its transcripts, as an out-of-band branch; kept by the call-center store. */
  async summarizeCall(context: ConversationContext): Promise<string> {
    const transcript = context.history.filter((h) => h.role === 'user' && h.text).map((h) => (h as { text: string }).text);
    const checkpoint = await context.checkpoint();
    try {
      await context.appendUserText(SUMMARY_PROMPT);
      let summary = '';
      for await (const event of await context.generate({ maxNewTokens: this.agent.generation.maxOutputTokens })) {
        if (event.type === 'delta') summary += event.text;
      }
      this.opts.services.callCenter().saveCallSummary(this.opts.state.id, summary.trim(), transcript);
      return summary.trim();
    } finally {
      await context.rewind(checkpoint);
    }
  }

  private interrupt(): void {
    const td = this.opts.state.turnDetection;
    if (td && td.interrupt_response) this.cancelResponse('turn_detected');
  }

  private requireEngine(what: string): SpeechEngine {
    if (this.opts.engine) return this.opts.engine;
    const cause = this.opts.engineUnavailable;
    throw new EarshotError(cause?.code ?? 'E_MODEL_MISSING', `${what} needs the model. ${cause?.message ?? ''}`.trim());
  }

  private enqueue(job: Job): void {
    if (this.disposed) return;
    this.queued++;
    this.jobs.next(job);
  }

  private getContext(engine: SpeechEngine): ConversationContext {
    this.context ??= new ConversationContext(engine, () => this.systemPrompt(), this.opts.settings.contextBudgetTokens);
    return this.context;
  }

  private serverTools(): Map<string, ServerTool> {
    return new Map(this.agent.tools.map((t) => [t.name, t]));
  }

  private systemPrompt(): SystemPrompt {
    const state = this.opts.state;
    const instructions = [this.agent.instructions, state.instructions].filter((s) => s.trim() !== '').join('\n\n');
    if (state.toolChoice === 'none') return { instructions, tools: [] };
    return { instructions, tools: this.sessionToolSpecs() };
  }

  /** The agent's server tools and the session's client tools (a server tool wins a shared name). */
  private sessionToolSpecs(): ToolSpec[] {
    const server = this.agent.tools.map(toToolSpec);
    const serverNames = new Set(server.map((t) => t.name));
    const client = this.opts.state.tools
      .filter((t) => !serverNames.has(t.name))
      .map((t) => ({ name: t.name, description: t.description ?? '', parameters: t.parameters ?? { type: 'object', properties: {} } }));
    return [...server, ...client];
  }

  private async run(job: Job, signal: AbortSignal): Promise<void> {
    try {
      if (job.type === 'utterance') await this.runUtterance(job.utterance, job.respond, signal);
      else if (job.type === 'idle') await this.runIdle(job.idle, job.respond, signal);
      else if (job.type === 'item') await (job.audio ? this.runAudioItem(job, job.audio, signal) : this.runItem(job, signal));
      else if (job.type === 'retrieve' || job.type === 'delete') this.runItemEdit(job);
      else if (!this.disposed) await this.runManualResponse(job.params, signal);
    } catch (err) {
      if (signal.aborted) return;
      this.opts.log.error({ err }, 'turn failed');
      const code: ErrorCode = isEarshotError(err) ? err.code : 'E_ENGINE';
      this.opts.emitError(code, err instanceof Error ? err.message : String(err), 'clientEventId' in job ? job.clientEventId : undefined);
    }
  }

  private async runUtterance(utterance: Utterance, respond: boolean, signal: AbortSignal): Promise<void> {
    const { engine, state } = this.opts;
    if (!engine) {
      if (state.transcription) {
        const cause = this.opts.engineUnavailable ?? new EarshotError('E_MODEL_MISSING');
        this.opts.emit({
          type: 'conversation.item.input_audio_transcription.failed',
          item_id: utterance.itemId,
          content_index: 0,
          error: { type: 'server_error', code: cause.code, message: cause.message },
        });
      }
      return;
    }
    const audio = utterance.pcm8k ? await engine.encodeAudio(utterance.pcm8k, 8000) : await engine.encodeAudio(utterance.pcm16k, 16000);
    try {
      const context = this.getContext(engine);
      await context.refresh();
      const lengthBefore = context.length;
      let transcript: string | null = null;
      if (state.transcription) {
        try {
          transcript = await runCaption({
            context,
            audio,
            itemId: utterance.itemId,
            settings: state.transcription,
            maxTokens: this.opts.settings.captionMaxTokens,
            signal,
            emit: this.opts.emit,
          });
        } catch (err) {
          if (signal.aborted) return;
          this.opts.log.warn({ err }, 'caption failed');
          this.opts.emit({
            type: 'conversation.item.input_audio_transcription.failed',
            item_id: utterance.itemId,
            content_index: 0,
            error: { type: 'server_error', code: isEarshotError(err) ? err.code : 'E_ENGINE', message: err instanceof Error ? err.message : String(err) },
          });
        }
      }
      if (signal.aborted || state.type !== 'realtime') return;
      await context.appendUserAudio(audio, transcript);
      this.turnsTaken++;
      if (respond && !this.disposed) await this.respond(context, { cachedTokens: lengthBefore }, signal);
    } finally {
      engine.releaseAudio(audio);
    }
  }

  /**
   * An idle timeout: the silence (not captioned: there is nothing to transcribe) with a prompt to follow
   * up, as one user turn; answered like an utterance.
   */
  private async runIdle(idle: IdleAudio, respond: boolean, signal: AbortSignal): Promise<void> {
    const engine = this.opts.engine;
    if (!engine || this.opts.state.type !== 'realtime') return;
    const audio = await engine.encodeAudio(idle.pcm16k, 16000);
    try {
      const context = this.getContext(engine);
      await context.refresh();
      const lengthBefore = context.length;
      if (signal.aborted) return;
      await context.appendUserMixed([{ type: 'audio', audio }, { type: 'text', text: idlePrompt(idle.silenceMs) }], null, [idle.itemId]);
      this.turnsTaken++;
      if (respond && !this.disposed) await this.respond(context, { cachedTokens: lengthBefore }, signal);
    } finally {
      engine.releaseAudio(audio);
    }
  }

  private async runItem(job: Extract<Job, { type: 'item' }>, _signal: AbortSignal): Promise<void> {
    const context = this.getContext(this.requireEngine('conversation.item.create'));
    await context.refresh();
    await applyClientItem(context, { ...job.item, id: job.itemId }, { items: this.opts.items, emit: this.opts.emit });
    this.turnsTaken++;
  }

  /** A user message with audio: reported, captioned like committed speech, then appended as one user turn. */
  private async runAudioItem(job: Extract<Job, { type: 'item' }>, clips: ItemAudioClip[], signal: AbortSignal): Promise<void> {
    const engine = this.requireEngine('conversation.item.create');
    const context = this.getContext(engine);
    await context.refresh();
    const { state, settings, items, emit } = this.opts;
    const appended = await addAudioItem({ engine, context, state, captionMaxTokens: settings.captionMaxTokens, items, emit, signal }, job.itemId, job.item, clips);
    if (appended) this.turnsTaken++;
  }

  private runItemEdit(job: Extract<Job, { type: 'retrieve' }> | Extract<Job, { type: 'delete' }>): void {
    const item = this.opts.items.get(job.itemId);
    if (!item) {
      this.opts.emitError('E_ITEM_NOT_FOUND', `No item ${JSON.stringify(job.itemId.slice(0, 64))} in the conversation.`, job.clientEventId);
      return;
    }
    if (job.type === 'retrieve') {
      this.opts.emit({ type: 'conversation.item.retrieved', item });
      return;
    }
    this.opts.items.remove(job.itemId);
    this.context?.forgetItem(job.itemId);
    this.opts.emit({ type: 'conversation.item.deleted', item_id: job.itemId });
  }

  /**
   * response.create. `input` gives the response its own context (OpenAI: "a new context for this
   * Response instead of the default conversation"): a separate engine session with the system prompt and
   * those items; in-band, what it produced is then appended to the conversation. `instructions` / `tools`
   * are a system turn for this response only: removed afterwards, the response's output kept.
   */
  private async runManualResponse(params: WireResponseCreateParams | undefined, signal: AbortSignal): Promise<void> {
    const engine = this.requireEngine('response.create');
    const main = this.getContext(engine);
    await main.refresh();
    const outOfBand = params?.conversation === 'none';
    const own = params?.input !== undefined ? new ConversationContext(engine, () => this.systemPrompt(), this.opts.settings.contextBudgetTokens) : null;
    const context = own ?? main;
    const checkpoint = outOfBand && !own ? await context.checkpoint() : null;
    try {
      for (const input of params?.input ?? []) {
        const item = input.type === 'item_reference' ? referencedItem(this.opts.items.get(input.id)) : input;
        if (item) await applyClientItem(context, item, { items: this.opts.items, emit: this.opts.emit, silent: true });
      }
      const historyBefore = context.history.length;
      const lengthBefore = context.length;
      const transient = params && needsResponseSystem(params, this.opts.state.toolChoice) ? await context.appendTransientSystem(this.responseSystem(params)) : null;
      try {
        await this.respond(context, { cachedTokens: lengthBefore, params, outOfBand }, signal);
      } finally {
        if (transient && !checkpoint) await context.keepAfterTransient(transient);
      }
      if (own && !outOfBand) {
        for (const entry of context.history.slice(historyBefore)) {
          if (entry.role === 'assistant') await main.appendAssistant(entry.text, entry.itemIds);
          else if (entry.role === 'tool') await main.appendToolResponse(entry.json, entry.itemIds);
        }
      }
    } finally {
      if (checkpoint) await context.rewind(checkpoint);
      await own?.dispose();
    }
  }

  /** The per-response system turn: the response's instructions and its function tools. */
  private responseSystem(params: WireResponseCreateParams): SystemPrompt {
    const state = this.opts.state;
    const none = params.tool_choice === 'none';
    let tools = (params.tools ?? []).flatMap((t) => (t.type === 'function' ? [{ name: t.name, description: t.description ?? '', parameters: t.parameters ?? { type: 'object', properties: {} } }] : []));
    // The session prompt offers no tools under session tool_choice 'none': a response that may call
    // them offers them here.
    if (params.tools === undefined && !none && state.toolChoice === 'none') tools = this.sessionToolSpecs();
    // The session prompt's tools stay in the context: a response with tool_choice 'none' says so instead.
    const noTools = none && state.toolChoice !== 'none' ? NO_TOOLS_INSTRUCTION : '';
    const instructions = [params.instructions ?? '', noTools].filter((t) => t !== '').join('\n\n');
    return { instructions, tools: none ? [] : tools };
  }

  private async respond(
    context: ConversationContext,
    opts: { cachedTokens: number; params?: WireResponseCreateParams; outOfBand?: boolean },
    jobSignal: AbortSignal,
  ): Promise<void> {
    const { state, settings } = this.opts;
    const controller = new AbortController();
    const onJobAbort = () => controller.abort('client_cancelled');
    jobSignal.addEventListener('abort', onJobAbort, { once: true });
    const responseId = newResponseId();
    this.active = { id: responseId, controller };
    const wireMax = opts.params?.max_output_tokens ?? opts.params?.max_response_output_tokens ?? state.maxOutputTokens;
    const maxOutputTokens = wireMax === 'inf' ? this.agent.generation.maxOutputTokens || settings.defaultMaxOutputTokens : wireMax;
    const gen = this.agent.generation;
    const toolChoice = (opts.params?.tool_choice ?? state.toolChoice) as ToolChoice;
    const clientTools = opts.params?.tools?.flatMap((t) => (t.type === 'function' ? [t.name] : [])) ?? state.tools.map((t) => t.name);
    const callable = toolChoice === 'none' ? new Set<string>() : new Set([...this.serverTools().keys(), ...clientTools]);
    const assistantPrefix = toolChoicePrefix(toolChoice, callable);
    const env: ResponseEnvironment = {
      context,
      emit: this.opts.emit,
      items: this.opts.items,
      serverTools: toolChoice === 'none' ? new Map() : this.serverTools(),
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
        maxOutputTokens,
        wireMaxOutputTokens: wireMax,
        ...(gen.temperature !== undefined && gen.temperature > 0 ? { sampling: { temperature: gen.temperature, seed: gen.seed ?? 0 } } : {}),
        metadata: opts.params?.metadata ?? null,
        outOfBand: opts.outOfBand,
        ...(assistantPrefix ? { assistantPrefix } : {}),
      });
    } finally {
      jobSignal.removeEventListener('abort', onJobAbort);
      if (this.active?.id === responseId) this.active = null;
    }
  }
}

/** A response needs its own system turn for its instructions or tools, or a tool_choice that changes what the session prompt offers. */
function needsResponseSystem(params: WireResponseCreateParams, sessionChoice: ToolChoice): boolean {
  if (params.instructions !== undefined || params.tools !== undefined) return true;
  const choice = params.tool_choice;
  if (choice === undefined) return false;
  return (choice === 'none') !== (sessionChoice === 'none');
}
