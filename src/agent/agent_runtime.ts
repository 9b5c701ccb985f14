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
import { newConversationId, newResponseId } from '../protocol/ids.ts';
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
import { runResponse, type CancelReason, type ResponseEnvironment } from './response_runner.ts';
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

type Job =
  | { type: 'utterance'; utterance: Utterance; respond: boolean }
  | { type: 'item'; item: WireConversationItem; itemId: string; clientEventId?: string }
  | { type: 'response'; params?: WireResponseCreateParams; clientEventId?: string };

export class AgentRuntime {
  private readonly jobs = new Subject<Job>();
  private readonly subscription: Subscription;
  private context: ConversationContext | null = null;
  private active: { id: string; controller: AbortController } | null = null;
  private readonly bargeIn: BargeInDetector;
  private readonly conversationId = newConversationId();
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
    const td = this.opts.state.turnDetection;
    // With manual turns (turn_detection null) the client asks for responses itself, as with OpenAI.
    const respond = this.opts.state.type === 'realtime' && td !== null && td.create_response;
    this.enqueue({ type: 'utterance', utterance, respond });
  }

  /** conversation.item.create; the item is checked now, applied in turn order. Returns its id. */
  createItem(item: WireConversationItem, clientEventId?: string): void {
    this.requireEngine('conversation.item.create');
    validateClientItem(item);
    this.enqueue({ type: 'item', item, itemId: item.id ?? '', clientEventId });
  }

  createResponse(params: WireResponseCreateParams | undefined, clientEventId?: string): void {
    if (this.opts.state.type === 'transcription') {
      throw new EarshotError('E_UNSUPPORTED_FEATURE', 'This is a transcription session: it emits transcripts and never responses.');
    }
    this.requireEngine('response.create');
    const modalities = params?.output_modalities ?? params?.modalities;
    if (modalities?.includes('audio')) {
      throw new EarshotError('E_UNSUPPORTED_FEATURE', 'Earshot produces text only; set output_modalities to ["text"].', { param: 'response.output_modalities' });
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
    const server = this.agent.tools.map(toToolSpec);
    const serverNames = new Set(server.map((t) => t.name));
    const client = state.tools
      .filter((t) => !serverNames.has(t.name))
      .map((t) => ({ name: t.name, description: t.description ?? '', parameters: t.parameters ?? { type: 'object', properties: {} } }));
    return { instructions, tools: [...server, ...client] };
  }

  private async run(job: Job, signal: AbortSignal): Promise<void> {
    try {
      if (job.type === 'utterance') await this.runUtterance(job.utterance, job.respond, signal);
      else if (job.type === 'item') await this.runItem(job, signal);
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

  private async runItem(job: Extract<Job, { type: 'item' }>, _signal: AbortSignal): Promise<void> {
    const context = this.getContext(this.requireEngine('conversation.item.create'));
    await context.refresh();
    await applyClientItem(context, job.item, { items: this.opts.items, emit: this.opts.emit });
    this.turnsTaken++;
  }

  private async runManualResponse(params: WireResponseCreateParams | undefined, signal: AbortSignal): Promise<void> {
    const context = this.getContext(this.requireEngine('response.create'));
    await context.refresh();
    const outOfBand = params?.conversation === 'none';
    const checkpoint = outOfBand ? await context.checkpoint() : null;
    const lengthBefore = context.length;
    try {
      for (const item of params?.input ?? []) {
        if (item.type === 'item_reference') continue; // referenced items are already in context
        validateClientItem(item);
        await applyClientItem(context, item, { items: this.opts.items, emit: this.opts.emit, silent: true });
      }
      await this.respond(context, { cachedTokens: lengthBefore, params, outOfBand }, signal);
    } finally {
      if (checkpoint) await context.rewind(checkpoint);
    }
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
    const env: ResponseEnvironment = {
      context,
      emit: this.opts.emit,
      items: this.opts.items,
      serverTools: state.toolChoice === 'none' ? new Map() : this.serverTools(),
      clientToolNames: new Set(state.toolChoice === 'none' ? [] : state.tools.map((t) => t.name)),
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
      });
    } finally {
      jobSignal.removeEventListener('abort', onJobAbort);
      if (this.active?.id === responseId) this.active = null;
    }
  }
}
