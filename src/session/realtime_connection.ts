// One Realtime connection: the client-event dispatch, the audio pipeline's wiring and the turn events it
// reports. Audio intake and backpressure live in audio_intake.ts, idle-timeout commits in idle_commit.ts,
// outbound fan-out to sidebands in event_fanout.ts, agent choice in agent_selection.ts.
import { Subject, type Subscription } from 'rxjs';
import { AgentRuntime } from '../agent/agent_runtime.ts';
import { ItemChain } from '../agent/item_chain.ts';
import { EarshotError, isEarshotError, type ErrorCode } from '../errors.ts';
import { detectSpeech } from '../pipeline/detect_speech.ts';
import { reframe } from '../pipeline/reframe.ts';
import { segmentUtterances } from '../pipeline/segment_utterances.ts';
import type { PipelineInput, SegmentEvent } from '../pipeline/types.ts';
import { fromBetaSessionConfig, toBetaParam } from '../protocol/beta_dialect.ts';
import type { ClientEvent } from '../protocol/client_events.ts';
import { decodeClientEvent } from '../protocol/codec.ts';
import { newItemId } from '../protocol/ids.ts';
import { errorEvent, serverEvent, type ServerEventPayload } from '../protocol/server_events.ts';
import { completedMessage } from '../protocol/server_items.ts';
import { knownAgentNames, resolveAgentUpdate, selectAgent } from './agent_selection.ts';
import { answerSpeechFor, flushPlayer, observeSpeech } from './answer_speech.ts';
import { AudioIntake } from './audio_intake.ts';
import type { ConnectionOptions, ConnectionTransport, VadStreamHandle } from './connection_types.ts';
import { EventFanout, type SidebandHandler } from './event_fanout.ts';
import { IdleTimeoutWatch } from './idle_commit.ts';
import { decodeItemAudio } from './input_audio.ts';
import { ItemEvents } from './item_events.ts';
import { SessionState } from './session_state.ts';
import { sessionSpeechOptions } from './session_speech.ts';
import { checkTextBounds, textBoundsFromConfig, type TextBounds } from './text_bounds.ts';
import { checkSessionSupport, ignoredFields, type Dialect } from './session_support.ts';

export type {
  AgentConnectionOptions,
  ConnectionOptions,
  ConnectionTransport,
  VadStreamHandle,
} from './connection_types.ts';

/**
 * One Realtime connection: validates client events, runs its audio through the pipeline and reports
 * turn events. Every failure of input becomes an `error` event; only `dispose()` tears anything down.
 */
export class RealtimeConnection {
  readonly state: SessionState;
  private readonly textBounds: TextBounds;
  private readonly pipelineInput = new Subject<PipelineInput>();
  private readonly subscription: Subscription;
  private readonly vadStream: VadStreamHandle;
  private readonly intake: AudioIntake;
  private readonly items = new ItemChain();
  private readonly runtime: AgentRuntime | null = null;
  /** Audio time of the stream so far (16 kHz samples through the segmenter): the barge-in clock. */
  private clockSamples16k = 0;
  private readonly unknownAgent: string | null;
  private readonly fanout: EventFanout;
  private readonly itemEvents = new ItemEvents(
    this.items,
    (payload) => this.send(payload),
    () => this.state.transcription !== null && this.runtime !== null,
  );
  private readonly idle = new IdleTimeoutWatch();
  private disposed = false;

  constructor(private readonly opts: ConnectionOptions) {
    const agentOpts = opts.agent;
    const { agent, unknownAgent, sessionType } = selectAgent(opts);
    this.unknownAgent = unknownAgent;
    // The transport gets GA events whatever the client's dialect: the wire writer spells them (LiveSessions).
    this.fanout = new EventFanout(opts.transport, 'ga');
    // A transport that plays audio itself reports playback (output_audio_buffer.*) as session events.
    opts.transport.audioOutput?.setEventSink?.((event) => this.send(event));
    this.state = new SessionState(
      opts.config,
      sessionType,
      sessionSpeechOptions(agentOpts?.synthesizer ?? null, opts.config.tts, agentOpts?.synthesizerUnavailable),
    );
    this.textBounds = textBoundsFromConfig(opts.config.limits);
    if (opts.model) this.state.model = opts.model;
    if (agentOpts && agent) {
      this.state.agentName = agent.name;
      this.runtime = new AgentRuntime({
        engine: agentOpts.engine,
        engineUnavailable: agentOpts.engineUnavailable,
        state: this.state,
        agent,
        settings: agentOpts.settings,
        services: agentOpts.services,
        items: this.items,
        emit: (payload) => this.send(payload),
        emitError: (code, message, clientEventId, param) => this.sendError(code, message, param, clientEventId),
        log: opts.log,
        speech: answerSpeechFor(this.state.speech, opts.transport.audioOutput),
      });
    }
    this.intake = new AudioIntake(
      opts.config,
      () => this.state.inputFormat,
      opts.transport,
      (samples16k, samples8k) => {
        this.idle.audioAppended(samples16k);
        this.opts.onAudioIn?.(samples16k.length);
        this.pipelineInput.next({ type: 'audio', samples16k, ...(samples8k ? { samples8k } : {}) });
      },
    );
    this.vadStream = opts.openVadStream();
    this.subscription = this.pipelineInput
      .pipe(
        reframe(),
        detectSpeech(this.vadStream),
        segmentUtterances({
          newItemId,
          turnDetection: this.state.pipelineTurnDetection(),
          maxUtteranceMs: opts.config.vad.max_utterance_ms,
        }),
      )
      .subscribe({
        next: (event) => this.onSegmentEvent(event),
        error: (err: unknown) => this.onPipelineError(err),
      });
  }

  start(): void {
    this.send({ type: 'session.created', session: this.state.toSessionObject() });
    if (this.unknownAgent !== null) {
      this.sendError(
        'E_AGENT_UNKNOWN',
        `Unknown agent ${JSON.stringify(this.unknownAgent)}; serving ${this.runtime?.agentName}. Known agents: ${knownAgentNames(this.opts.agent)}.`,
        'agent',
      );
    }
  }

  /** Tokens in the model context of this connection (for rate_limits.updated: more exact than usage totals). */
  get contextTokens(): number {
    return this.runtime?.contextTokens ?? 0;
  }

  /** The agent runtime (tests wait on it; null without the agent options). */
  get agentRuntime(): AgentRuntime | null {
    return this.runtime;
  }

  handleText(text: string): void {
    if (this.disposed) return;
    const decoded = decodeClientEvent(text);
    if (!decoded.ok) {
      this.sendError(decoded.code, decoded.message, decoded.param, decoded.clientEventId);
      return;
    }
    try {
      checkTextBounds(decoded.event, this.textBounds);
      this.handleEvent(decoded.event);
    } catch (err) {
      const clientEventId = decoded.event.event_id;
      // A beta client is told the field in its own spelling (its session.update was read in the GA shape).
      if (isEarshotError(err))
        this.sendError(
          err.code,
          err.message,
          err.param && this.dialect === 'beta' ? toBetaParam(err.param) : err.param,
          clientEventId,
        );
      else {
        this.opts.log.error({ err }, 'unexpected error handling a client event');
        this.sendError('E_INTERNAL', 'Internal error while handling the event.', undefined, clientEventId);
      }
    }
  }

  /** Earshot extension: a binary frame is raw little-endian PCM16 in the session's audio/pcm format. */
  handleBinary(bytes: Uint8Array): void {
    if (this.disposed) return;
    if (this.state.inputFormat.type !== 'audio/pcm') {
      this.sendError(
        'E_BINARY_NOT_ALLOWED',
        `Binary frames carry PCM16; the session's input format is ${this.state.inputFormat.type}.`,
      );
      return;
    }
    try {
      this.intake.append(bytes);
    } catch (err) {
      if (isEarshotError(err)) this.sendError(err.code, err.message, err.param);
      else throw err;
    }
  }

  /**
   * Audio that arrives already decoded at 16 kHz (WebRTC: Opus decoded straight to 16 kHz), bypassing the
   * session's wire format. Subject to the same backlog bound.
   */
  handlePcm16k(samples16k: Float32Array): void {
    if (this.disposed) return;
    try {
      this.intake.appendPcm16k(samples16k);
    } catch (err) {
      if (isEarshotError(err)) this.sendError(err.code, err.message, err.param);
      else throw err;
    }
  }

  /**
   * `?call_id=`: a second control connection to this session (OpenAI's sideband WebSocket beside a
   * WebRTC call). It receives every server event from now on and may send client events; audio stays on
   * the call. `dispose()` of the returned handler detaches it and leaves the session running.
   */
  attachSideband(transport: Pick<ConnectionTransport, 'send'>, dialect: Dialect = 'ga'): SidebandHandler {
    return this.fanout.attach(transport, dialect, (text) => this.handleText(text));
  }

  /** The single teardown path: ends the pipeline, frees the VAD stream. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.subscription.unsubscribe();
    this.pipelineInput.complete();
    this.vadStream.close();
    this.runtime?.dispose().catch((err: unknown) => this.opts.log.warn({ err }, 'agent runtime teardown failed'));
  }

  private handleEvent(event: ClientEvent): void {
    switch (event.type) {
      case 'session.update':
      case 'transcription_session.update': {
        if (event.type === 'transcription_session.update' && this.state.type !== 'transcription') {
          throw new EarshotError(
            'E_UNSUPPORTED_FEATURE',
            'transcription_session.update configures a transcription session; this is a realtime session (connect with ?intent=transcription).',
            { param: 'type' },
          );
        }
        const raw = event.session;
        const update = this.dialect === 'beta' ? fromBetaSessionConfig(raw) : raw;
        checkSessionSupport(update, { dialect: this.dialect, rawFields: Object.keys(raw) });
        const ignored = ignoredFields(raw, this.dialect, this.state.speech.available);
        const nextAgent = resolveAgentUpdate(update as Record<string, unknown>, this.opts.agent, this.state);
        const changed = this.state.apply(update);
        // Audio asked of a server without a voice engine: said plainly, and the rest of the update holds.
        if (changed.speechUnavailable)
          this.sendError(
            changed.speechUnavailable.code,
            changed.speechUnavailable.message,
            this.dialect === 'beta' ? toBetaParam('session.output_modalities') : 'session.output_modalities',
            event.event_id,
          );
        if (nextAgent) this.runtime?.setAgent(nextAgent);
        else if (changed.promptChanged) this.runtime?.promptChanged();
        if (changed.formatChanged) this.intake.switchFormat();
        if (changed.turnDetectionChanged) {
          this.pipelineInput.next({ type: 'configure', turnDetection: this.state.pipelineTurnDetection() });
        }
        this.send({ type: 'session.updated', session: this.state.toSessionObject(ignored) });
        return;
      }
      case 'input_audio_buffer.append':
        this.intake.appendBase64(event.audio);
        return;
      case 'input_audio_buffer.commit':
        // What the commit produces is known only when the pipeline reaches it; later events wait for it.
        this.runtime?.openCommitSlot();
        this.pipelineInput.next({ type: 'commit' });
        return;
      case 'input_audio_buffer.clear':
        this.pipelineInput.next({ type: 'clear' });
        return;
      case 'output_audio_buffer.clear':
        // agents-realtime's WebRTC transport sends this on every interruption; over WebSocket there is no
        // server-side player, so there is nothing to flush.
        flushPlayer(this.opts.transport.audioOutput, this.runtime);
        return;
      case 'conversation.item.create': {
        const runtime = this.requireRuntime(event.type);
        runtime.createItem(
          event.item,
          event.event_id,
          decodeItemAudio(event.item, this.state.inputFormat),
          event.previous_item_id,
        );
        return;
      }
      case 'conversation.item.retrieve':
        this.requireRuntime(event.type).retrieveItem(event.item_id, event.event_id);
        return;
      case 'conversation.item.delete':
        this.requireRuntime(event.type).deleteItem(event.item_id, event.event_id);
        return;
      case 'conversation.item.truncate':
        if (this.runtime)
          this.runtime.truncateItem(event.item_id, event.content_index, event.audio_end_ms, event.event_id);
        else this.send(this.itemEvents.truncate(event.item_id, event.content_index, event.audio_end_ms));
        return;
      case 'response.create':
        // Audio settings of the response are checked now (unknown voice, no voice engine), not when it runs.
        if (this.state.type === 'realtime') this.state.speech.resolve(event.response);
        this.requireRuntime(event.type).createResponse(event.response, event.event_id);
        return;
      case 'response.cancel':
        // Nothing running is not an error: agents-realtime cancels on every interruption.
        this.runtime?.cancelResponse('client_cancelled');
        return;
      default: {
        const unhandled: never = event;
        throw new EarshotError(
          'E_UNSUPPORTED_FEATURE',
          `${(unhandled as { type: string }).type} is not supported by Earshot.`,
        );
      }
    }
  }

  private requireRuntime(what: string): AgentRuntime {
    if (!this.runtime)
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        `${what} needs the agent runtime, which this server does not run.`,
      );
    return this.runtime;
  }

  private onSegmentEvent(event: SegmentEvent): void {
    switch (event.type) {
      case 'processed':
        this.intake.processed(event.samples16k);
        this.clockSamples16k += event.samples16k;
        this.runtime?.audioClock(this.clockSamples16k / 16);
        this.checkIdle();
        this.intake.resumeIfCaughtUp();
        return;
      case 'speech_started':
        this.send({
          type: 'input_audio_buffer.speech_started',
          audio_start_ms: event.audioStartMs,
          item_id: event.itemId,
        });
        this.idle.speechStarted();
        this.bargeInPlayer();
        this.runtime?.speechStarted(event.speechStartMs, this.clockSamples16k / 16);
        return;
      case 'speech_stopped':
        this.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: event.audioEndMs, item_id: event.itemId });
        this.runtime?.speechStopped(event.speechEndMs);
        return;
      case 'utterance': {
        this.commitUserAudio(event.utterance.itemId);
        this.idle.utteranceCommitted(event.utterance.endSample / 16, this.runtime?.respondsToUtterances() ?? false);
        this.opts.onUtterance?.(event.utterance);
        this.runtime?.enqueueUtterance(event.utterance);
        return;
      }
      case 'cleared':
        this.idle.cleared(this.clockSamples16k / 16);
        this.send({ type: 'input_audio_buffer.cleared' });
        return;
      case 'error':
        this.sendError(event.code, event.message);
        return;
      case 'commit_handled':
        this.runtime?.commitHandled();
        return;
    }
  }

  /** Server VAD heard speech while the call's player still plays an answer: the listener interrupts it. */
  private bargeInPlayer(): void {
    const td = this.state.turnDetection;
    const player = this.opts.transport.audioOutput;
    if (td?.interrupt_response && player?.isPlaying()) flushPlayer(player, this.runtime);
  }

  private commitUserAudio(itemId: string): void {
    const item = completedMessage(itemId, 'user', [{ type: 'input_audio', transcript: null }]);
    const previous = this.items.append(itemId, item);
    this.send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previous });
    this.send({ type: 'conversation.item.added', previous_item_id: previous, item });
  }

  /** idle_timeout_ms on the audio clock: commits the silent stretch, and the runtime may answer it. */
  private checkIdle(): void {
    const stretch = this.idle.check(
      this.clockSamples16k,
      this.state.turnDetection,
      (this.runtime?.turnsPending ?? 0) > 0,
    );
    if (!stretch) return;
    const itemId = newItemId();
    this.send({
      type: 'input_audio_buffer.timeout_triggered',
      audio_start_ms: stretch.startMs,
      audio_end_ms: stretch.endMs,
      item_id: itemId,
    });
    this.commitUserAudio(itemId);
    const audio = this.idle.audioOf(stretch.startMs, this.clockSamples16k);
    this.runtime?.enqueueIdleTimeout({ itemId, ...audio, silenceMs: stretch.endMs - stretch.startMs });
  }

  private onPipelineError(err: unknown): void {
    if (this.disposed) return;
    const code: ErrorCode = isEarshotError(err) ? err.code : 'E_INTERNAL';
    this.opts.log.error({ err }, 'audio pipeline failed');
    // No commit will be reported any more: release the events waiting for one.
    this.runtime?.releaseCommitSlots();
    this.sendError(code, 'The audio pipeline failed for this connection; reconnect to continue.');
  }

  private get dialect(): Dialect {
    return this.opts.dialect ?? 'ga';
  }

  private send(payload: ServerEventPayload): void {
    if (this.disposed) return;
    if (payload.type === 'response.created') this.idle.responseStarted();
    else if (payload.type === 'response.done') this.idle.responseDone(this.clockSamples16k / 16);
    observeSpeech(payload, this.state.speech);
    this.fanout.emit(serverEvent(payload));
    this.itemEvents.observe(payload);
  }

  private sendError(code: ErrorCode, message: string, param?: string, clientEventId?: string): void {
    if (this.disposed) return;
    this.fanout.emit(errorEvent(code, message, { param, clientEventId }));
  }
}
