// One connection's agent: turns (utterances, client items, manual responses) run strictly in order
// through runTurns(); control (barge-in, response.cancel) acts at once on the running response, never
// queued behind turns (control has its own lane). This file is the queue and the public API; the turns themselves
// live in audio_turns.ts, item_turns.ts and manual_response.ts, response start-up in response_launch.ts.
import { Subject, type Subscription } from 'rxjs';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { EarshotError, isEarshotError, type ErrorCode } from '../errors.ts';
import { runTurns } from '../pipeline/run_turns.ts';
import type { Utterance } from '../pipeline/types.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import { newConversationId, newItemId } from '../protocol/ids.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import type { AgentDefinition } from './agent.ts';
import { runIdleTurn, runUtteranceTurn } from './audio_turns.ts';
import { BargeInDetector } from './barge_in.ts';
import { summarizeCall } from './call_summary.ts';
import { validateClientItem } from './client_items.ts';
import { ConversationContext } from './conversation_context.ts';
import { runAudioItemTurn, runItemEdit, runItemTurn } from './item_turns.ts';
import { runManualResponse } from './manual_response.ts';
import { ResponseLauncher } from './response_launch.ts';
import { checkResponseParams } from './response_params.ts';
import type { CancelReason } from './response_runner.ts';
import type { AgentRuntimeOptions, IdleAudio, ItemAudioClip, Job, TurnHost } from './runtime_types.ts';
import { sessionSystemPrompt } from './session_prompt.ts';
import { runTruncate } from './truncate_turn.ts';
import { itemTextBytes, responseTextBytes } from './text_cost.ts';
import { clientFaultLog } from '../observability/client_fault_log.ts';

const DEFAULT_MAX_QUEUED_TURNS = 16;
const DEFAULT_MAX_PENDING_TEXT_BYTES = 512 * 1024;

export type { AgentRuntimeOptions, AgentRuntimeSettings, IdleAudio, ItemAudioClip } from './runtime_types.ts';

export class AgentRuntime {
  private readonly jobs = new Subject<Job>();
  private readonly subscription: Subscription;
  private context: ConversationContext | null = null;
  private readonly responses: ResponseLauncher;
  private readonly host: TurnHost;
  private readonly bargeIn: BargeInDetector;
  readonly conversationId = newConversationId();
  private queued = 0;
  /** Client-requested jobs queued or running, and the text bytes they carry (bounded per connection). */
  private clientJobs = 0;
  private pendingTextBytes = 0;
  private readonly jobCosts = new WeakMap<Job, number>();
  private drained: (() => void) | null = null;
  private agent: AgentDefinition;
  private turnsTaken = 0;
  private disposed = false;
  /** Commits the audio pipeline has not reported yet, each with the turns it produced so far. */
  private readonly slots: Array<{ jobs: Job[]; resolve(jobs: Job[]): void }> = [];
  /** Queued creates (their ids, the calls they answer) and deletes: later events may refer to them. */
  private readonly pending = { creates: new Set<string>(), answers: new Set<string>(), deletes: new Set<string>() };

  constructor(private readonly opts: AgentRuntimeOptions) {
    this.agent = opts.agent;
    this.bargeIn = new BargeInDetector(opts.settings.interruptMinSpeechMs);
    this.responses = new ResponseLauncher(opts, () => this.agent, this.conversationId);
    this.host = {
      opts,
      agent: () => this.agent,
      context: (engine) => this.getContext(engine),
      existingContext: () => this.context,
      newContext: (engine) => this.newContext(engine),
      requireEngine: (what) => this.requireEngine(what),
      isDisposed: () => this.disposed,
      turnTaken: () => {
        this.turnsTaken++;
      },
      respond: (context, respondOpts, jobSignal) => this.responses.respond(context, respondOpts, jobSignal),
    };
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
    this.enqueueAudio({ type: 'utterance', utterance, respond: this.respondsToUtterances() });
  }

  /** Whether a committed utterance (or idle timeout) is answered: realtime, turn detection with create_response, a model. */
  respondsToUtterances(): boolean {
    const td = this.opts.state.turnDetection;
    // With manual turns (turn_detection null) the client asks for responses itself, as with OpenAI.
    return this.opts.state.type === 'realtime' && td !== null && td.create_response && this.opts.engine !== null;
  }

  /** turn_detection.idle_timeout_ms fired: the silent stretch becomes a user turn, answered with create_response. */
  enqueueIdleTimeout(idle: IdleAudio): void {
    this.enqueueAudio({ type: 'idle', idle, respond: this.respondsToUtterances() });
  }

  /**
   * conversation.item.create; the item is checked now, applied in turn order. `previousItemId` may name
   * any item, one that an earlier queued create will add, or 'root' (first).
   */
  createItem(
    item: WireConversationItem,
    clientEventId?: string,
    audio?: ItemAudioClip[],
    previousItemId?: string | null,
  ): void {
    this.requireEngine('conversation.item.create');
    validateClientItem(item, { allowAudio: true });
    const pending = this.pending;
    if (
      item.id !== undefined &&
      (pending.creates.has(item.id) || (this.opts.items.has(item.id) && !pending.deletes.has(item.id)))
    ) {
      throw new EarshotError('E_INVALID_EVENT', `An item with id ${JSON.stringify(item.id)} already exists.`, {
        param: 'item.id',
      });
    }
    if (
      previousItemId != null &&
      previousItemId !== 'root' &&
      !this.opts.items.has(previousItemId) &&
      !pending.creates.has(previousItemId)
    ) {
      throw new EarshotError(
        'E_ITEM_NOT_FOUND',
        `previous_item_id ${JSON.stringify(previousItemId.slice(0, 64))} names no item of the conversation.`,
        { param: 'previous_item_id' },
      );
    }
    if (
      item.type === 'function_call_output' &&
      (pending.answers.has(item.call_id) || this.opts.items.isAnswered(item.call_id))
    ) {
      throw new EarshotError(
        'E_INVALID_EVENT',
        `The call ${JSON.stringify(item.call_id.slice(0, 64))} already has an output; a call is answered once.`,
        { param: 'item.call_id' },
      );
    }
    const itemId = item.id ?? newItemId();
    const previous = previousItemId === 'root' ? null : (previousItemId ?? undefined);
    // Bounded first (E_QUEUE_FULL leaves nothing behind), then remembered for the creates queued after it.
    this.enqueueClientJob(
      {
        type: 'item',
        item,
        itemId,
        clientEventId,
        ...(previous === undefined ? {} : { previousItemId: previous }),
        ...(audio && audio.length > 0 ? { audio } : {}),
      },
      itemTextBytes(item),
    );
    pending.creates.add(itemId);
    if (item.type === 'function_call_output') pending.answers.add(item.call_id);
  }

  /**
   * input_audio_buffer.commit: events after it wait for what it commits (arrival order), even though the
   * audio pipeline reports the commit later. `commitHandled` closes the oldest open commit.
   */
  openCommitSlot(): void {
    let resolve: (jobs: Job[]) => void = () => {};
    const ready = new Promise<Job[]>((r) => (resolve = r));
    const slot = { jobs: [] as Job[], resolve };
    this.slots.push(slot);
    this.enqueue({ type: 'slot', ready });
  }

  commitHandled(): void {
    const slot = this.slots.shift();
    slot?.resolve(slot.jobs);
  }

  /** The pipeline stopped: no commit will be reported, so nothing may wait for one. */
  releaseCommitSlots(): void {
    while (this.slots.length > 0) this.commitHandled();
  }

  /** conversation.item.retrieve: answered at once for a known item, else after the queued turns (which may create it). */
  retrieveItem(itemId: string, clientEventId?: string): void {
    const item = this.opts.items.get(itemId);
    if (item) this.opts.emit({ type: 'conversation.item.retrieved', item });
    else this.enqueueClientJob({ type: 'retrieve', itemId, clientEventId }, 0);
  }

  /** conversation.item.delete: in turn order, since it changes the model's context. */
  deleteItem(itemId: string, clientEventId?: string): void {
    this.enqueueClientJob({ type: 'delete', itemId, clientEventId }, 0);
    this.pending.deletes.add(itemId);
  }

  /** conversation.item.truncate: in turn order, after the response speaking the item has finished. */
  truncateItem(itemId: string, contentIndex: number, audioEndMs: number, clientEventId?: string): void {
    this.enqueueClientJob({ type: 'truncate', itemId, contentIndex, audioEndMs, clientEventId }, 0);
  }

  createResponse(params: WireResponseCreateParams | undefined, clientEventId?: string): void {
    if (this.opts.state.type === 'transcription') {
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        'This is a transcription session: it emits transcripts and never responses.',
      );
    }
    this.requireEngine('response.create');
    checkResponseParams(params);
    for (const [i, item] of (params?.input ?? []).entries()) {
      if (item.type === 'item_reference') {
        if (!this.opts.items.get(item.id))
          throw new EarshotError('E_ITEM_NOT_FOUND', `No item ${JSON.stringify(item.id)} in the conversation.`, {
            param: `response.input[${i}].id`,
          });
      } else validateClientItem(item);
    }
    this.enqueueClientJob({ type: 'response', params, clientEventId }, responseTextBytes(params));
  }

  /** response.cancel, or a barge-in. False when no response is running. */
  cancelResponse(reason: CancelReason): boolean {
    return this.responses.cancel(reason);
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

  /** Turns queued or running (utterances, idle timeouts, items, response.create). */
  get turnsPending(): number {
    return this.queued;
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
    this.releaseCommitSlots();
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
    return summarizeCall(context, this.opts, () => this.agent);
  }

  private interrupt(): void {
    const td = this.opts.state.turnDetection;
    if (td?.interrupt_response) this.cancelResponse('turn_detected');
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

  /** A turn from the audio pipeline: inside the oldest open commit when one is open (it came before it). */
  private enqueueAudio(job: Job): void {
    const slot = this.slots[0];
    if (!slot) return this.enqueue(job);
    if (this.disposed) return;
    this.queued++;
    slot.jobs.push(job);
  }

  private finishedInner(): void {
    this.queued--;
    if (this.queued === 0) this.drained?.();
  }

  /**
   * A job a client asked for: refused with E_QUEUE_FULL (nothing queued) once the connection has
   * maxQueuedTurns such jobs or maxPendingTextBytes of their text waiting, so one client's flood holds
   * bounded memory and engine work; the bound frees as its turns run.
   */
  private enqueueClientJob(job: Job, textBytes: number): void {
    const maxTurns = this.opts.settings.maxQueuedTurns ?? DEFAULT_MAX_QUEUED_TURNS;
    const maxBytes = this.opts.settings.maxPendingTextBytes ?? DEFAULT_MAX_PENDING_TEXT_BYTES;
    if (this.clientJobs >= maxTurns) {
      throw new EarshotError(
        'E_QUEUE_FULL',
        `This connection already has ${this.clientJobs} requests queued or running (limit ${maxTurns}, limits.max_queued_turns); wait for them to finish.`,
      );
    }
    if (this.pendingTextBytes + textBytes > maxBytes) {
      throw new EarshotError(
        'E_QUEUE_FULL',
        `This connection has ${this.pendingTextBytes} bytes of text waiting for the engine; ${textBytes} more would pass the limit of ${maxBytes} (limits.max_pending_text_bytes).`,
      );
    }
    if (this.disposed) return;
    this.clientJobs++;
    this.pendingTextBytes += textBytes;
    this.jobCosts.set(job, textBytes);
    this.enqueue(job);
  }

  private jobDone(job: Job): void {
    const cost = this.jobCosts.get(job);
    if (cost === undefined) return;
    this.jobCosts.delete(job);
    this.clientJobs--;
    this.pendingTextBytes -= cost;
  }

  private getContext(engine: SpeechEngine): ConversationContext {
    this.context ??= this.newContext(engine);
    return this.context;
  }

  private newContext(engine: SpeechEngine): ConversationContext {
    return new ConversationContext(
      engine,
      () => sessionSystemPrompt(this.agent, this.opts.state),
      this.opts.settings.contextBudgetTokens,
    );
  }

  private async run(job: Job, signal: AbortSignal): Promise<void> {
    if (job.type === 'slot') {
      for (const inner of await job.ready) {
        if (!signal.aborted) await this.run(inner, signal);
        this.finishedInner();
      }
      return;
    }
    try {
      await this.runJob(job, signal);
    } finally {
      this.jobDone(job);
    }
  }

  private async runJob(job: Exclude<Job, { type: 'slot' }>, signal: AbortSignal): Promise<void> {
    try {
      if (job.type === 'utterance') await runUtteranceTurn(this.host, job.utterance, job.respond, signal);
      else if (job.type === 'idle') await runIdleTurn(this.host, job.idle, job.respond, signal);
      else if (job.type === 'item')
        await (job.audio ? runAudioItemTurn(this.host, job, job.audio, signal) : runItemTurn(this.host, job, signal));
      else if (job.type === 'retrieve' || job.type === 'delete') runItemEdit(this.host, job);
      else if (job.type === 'truncate') await runTruncate(this.host, job);
      else if (!this.disposed) await runManualResponse(this.host, job.params, signal);
    } catch (err) {
      this.context?.noteEngineFailure(err);
      if (signal.aborted) return;
      clientFaultLog.turnFailed(this.opts.log, err);
      const code: ErrorCode = isEarshotError(err) ? err.code : 'E_ENGINE';
      this.opts.emitError(
        code,
        err instanceof Error ? err.message : String(err),
        'clientEventId' in job ? job.clientEventId : undefined,
        isEarshotError(err) ? err.param : undefined,
      );
    } finally {
      if (job.type === 'item') {
        this.pending.creates.delete(job.itemId);
        if (job.item.type === 'function_call_output') this.pending.answers.delete(job.item.call_id);
      } else if (job.type === 'delete') this.pending.deletes.delete(job.itemId);
    }
  }
}
