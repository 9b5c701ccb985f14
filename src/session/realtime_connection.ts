import { Subject, type Subscription } from 'rxjs';
import type { EarshotConfig } from '../config/schema.ts';
import { EarshotError, isEarshotError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { detectSpeech, type SpeechProbabilitySource } from '../pipeline/detect_speech.ts';
import { reframe } from '../pipeline/reframe.ts';
import { segmentUtterances } from '../pipeline/segment_utterances.ts';
import type { PipelineInput, SegmentEvent, Utterance } from '../pipeline/types.ts';
import { decodeBase64Audio } from '../protocol/base64.ts';
import type { ClientEvent } from '../protocol/client_events.ts';
import { decodeClientEvent } from '../protocol/codec.ts';
import { newItemId } from '../protocol/ids.ts';
import type { MessageItem } from '../protocol/server_items.ts';
import { errorEvent, serverEvent, type ServerEvent, type ServerEventPayload } from '../protocol/server_events.ts';
import { fromBetaSessionConfig, toBetaServerEvent } from '../protocol/beta_dialect.ts';
import { bytesToMs, decodeItemAudio, InputAudioDecoder } from './input_audio.ts';
import { checkSessionSupport, type Dialect } from './session_support.ts';
import { ItemEvents } from './item_events.ts';
import { AgentRuntime, type AgentRuntimeSettings } from '../agent/agent_runtime.ts';
import type { AgentCatalogue, AgentDefinition } from '../agent/agent.ts';
import { ItemChain } from '../agent/item_chain.ts';
import type { AgentServices } from '../agent/services.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { SessionState, type SessionType } from './session_state.ts';
import { AudioHistory, IdleTracker, MAX_IDLE_AUDIO_MS } from './idle_timeout.ts';

/** What a transport gives a connection: how to talk back and how to push back on a fast sender. */
export interface ConnectionTransport {
  send(event: ServerEvent): void;
  /** Stop reading input (TCP backpressure) while the pipeline catches up. */
  pauseInput(): void;
  resumeInput(): void;
}

export interface VadStreamHandle extends SpeechProbabilitySource {
  close(): void;
}

export interface ConnectionOptions {
  config: EarshotConfig;
  transport: ConnectionTransport;
  openVadStream: () => VadStreamHandle;
  log: Logger;
  sessionType?: SessionType;
  /** Called for each committed utterance (besides the agent's turn runner). */
  onUtterance?: (utterance: Utterance) => void;
  /** The voice agent runtime; without it the connection only detects and commits turns. */
  agent?: AgentConnectionOptions;
  /**
   * 'beta' when the client asked for the beta API (subprotocol `openai-beta.realtime-v1` or header
   * `OpenAI-Beta: realtime=v1`, see dialectOf): flat session fields in, beta event names out.
   */
  dialect?: Dialect;
  /** `?model=`: echoed in the session object (Earshot serves its one model whatever the name). */
  model?: string | null;
}

export interface AgentConnectionOptions {
  engine: SpeechEngine | null;
  /** Why there is no engine, with the fix (E_MODEL_MISSING: `earshot model pull` / --model DIR). */
  engineUnavailable?: EarshotError;
  catalogue: AgentCatalogue;
  /** ?agent=NAME; the catalogue's default when absent. */
  agentName?: string | null;
  settings: AgentRuntimeSettings;
  services: AgentServices;
}

/**
 * One Realtime connection: validates client events, runs its audio through the pipeline and reports
 * turn events. Every failure of input becomes an `error` event; only `dispose()` tears anything down.
 */
export class RealtimeConnection {
  readonly state: SessionState;
  private readonly pipelineInput = new Subject<PipelineInput>();
  private readonly subscription: Subscription;
  private readonly vadStream: VadStreamHandle;
  private decoder: InputAudioDecoder;
  private pendingSamples16k = 0;
  private inputPaused = false;
  private readonly items = new ItemChain();
  private readonly runtime: AgentRuntime | null = null;
  /** Audio time of the stream so far (16 kHz samples through the segmenter): the barge-in clock. */
  private clockSamples16k = 0;
  private unknownAgent: string | null = null;
  private readonly sidebands = new Set<{ transport: Pick<ConnectionTransport, 'send'>; dialect: Dialect }>();
  private readonly itemEvents = new ItemEvents(this.items, (payload) => this.send(payload), () => this.state.transcription !== null && this.runtime !== null);
  private onlyTelephonySoFar: boolean;
  private readonly idle = new IdleTracker();
  private readonly history = new AudioHistory();
  private disposed = false;

  constructor(private readonly opts: ConnectionOptions) {
    const agentOpts = opts.agent;
    let agent: AgentDefinition | undefined;
    if (agentOpts) {
      const requested = agentOpts.agentName ?? null;
      agent = requested ? agentOpts.catalogue.get(requested) : agentOpts.catalogue.default;
      if (!agent) {
        this.unknownAgent = requested;
        agent = agentOpts.catalogue.default;
      }
    }
    // ?intent=transcription wins; otherwise a captioning agent makes a transcription session.
    const sessionType = opts.sessionType === 'transcription' || (requestedAgentIsExplicit(opts) && agent?.sessionType === 'transcription') ? 'transcription' : (opts.sessionType ?? 'realtime');
    this.state = new SessionState(opts.config, sessionType);
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
        emitError: (code, message, clientEventId) => this.sendError(code, message, undefined, clientEventId),
        log: opts.log,
      });
    }
    this.decoder = new InputAudioDecoder(this.state.inputFormat);
    this.onlyTelephonySoFar = this.decoder.sourceRateHz === 8000;
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
      this.sendError('E_AGENT_UNKNOWN', `Unknown agent ${JSON.stringify(this.unknownAgent)}; serving ${this.runtime?.agentName}. Known agents: ${this.opts.agent?.catalogue.list().map((a) => a.name).join(', ')}.`, 'agent');
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
      this.handleEvent(decoded.event);
    } catch (err) {
      const clientEventId = decoded.event.event_id;
      if (isEarshotError(err)) this.sendError(err.code, err.message, err.param, clientEventId);
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
      this.sendError('E_BINARY_NOT_ALLOWED', `Binary frames carry PCM16; the session's input format is ${this.state.inputFormat.type}.`);
      return;
    }
    try {
      this.appendAudio(bytes);
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
    const pendingMs = (this.pendingSamples16k + samples16k.length) / 16;
    if (pendingMs > 2 * this.opts.config.server.max_pending_audio_ms) {
      this.sendError('E_AUDIO_BACKLOG', `Audio dropped: ${Math.round(pendingMs)} ms waiting for processing.`);
      return;
    }
    this.pushAudio(samples16k);
  }

  /**
   * `?call_id=`: a second control connection to this session (OpenAI's sideband WebSocket beside a
   * WebRTC call). It receives every server event from now on and may send client events; audio stays on
   * the call. `dispose()` of the returned handler detaches it and leaves the session running.
   */
  attachSideband(transport: Pick<ConnectionTransport, 'send'>, dialect: Dialect = 'ga'): { handleText(text: string): void; handleBinary(bytes: Uint8Array): void; dispose(): void } {
    const sideband = { transport, dialect };
    this.sidebands.add(sideband);
    return {
      handleText: (text) => this.handleText(text),
      handleBinary: () => emitIn(dialect, transport, errorEvent('E_BINARY_NOT_ALLOWED', 'A sideband connection carries events only; the call carries the audio.')),
      dispose: () => this.sidebands.delete(sideband),
    };
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
          throw new EarshotError('E_UNSUPPORTED_FEATURE', 'transcription_session.update configures a transcription session; this is a realtime session (connect with ?intent=transcription).', { param: 'type' });
        }
        const raw = event.session;
        const update = this.dialect === 'beta' ? fromBetaSessionConfig(raw) : raw;
        checkSessionSupport(update, { dialect: this.dialect, rawFields: Object.keys(raw) });
        const nextAgent = this.resolveAgentUpdate(update as Record<string, unknown>);
        const changed = this.state.apply(update);
        if (nextAgent) this.runtime?.setAgent(nextAgent);
        else if (changed.promptChanged) this.runtime?.promptChanged();
        if (changed.formatChanged) this.switchFormat();
        if (changed.turnDetectionChanged) {
          this.pipelineInput.next({ type: 'configure', turnDetection: this.state.pipelineTurnDetection() });
        }
        this.send({ type: 'session.updated', session: this.state.toSessionObject() });
        return;
      }
      case 'input_audio_buffer.append': {
        const decoded = decodeBase64Audio(event.audio);
        if (!decoded.ok) throw new EarshotError(decoded.code, decoded.message, { param: 'audio' });
        this.appendAudio(decoded.bytes);
        return;
      }
      case 'input_audio_buffer.commit':
        this.pipelineInput.next({ type: 'commit' });
        return;
      case 'input_audio_buffer.clear':
        this.pipelineInput.next({ type: 'clear' });
        return;
      case 'output_audio_buffer.clear':
        // agents-realtime's WebRTC transport sends this on every interruption; Earshot has no audio output.
        return;
      case 'conversation.item.create': {
        const runtime = this.requireRuntime(event.type);
        const previous = event.previous_item_id;
        if (previous != null && previous !== this.items.last && !(previous === 'root' && this.items.size === 0)) {
          throw new EarshotError('E_UNSUPPORTED_FEATURE', "Earshot appends items at the end of the conversation (the model's context only grows): omit previous_item_id or give the last item's id.", { param: 'previous_item_id' });
        }
        runtime.createItem(event.item, event.event_id, decodeItemAudio(event.item, this.state.inputFormat));
        return;
      }
      case 'conversation.item.retrieve':
        this.requireRuntime(event.type).retrieveItem(event.item_id, event.event_id);
        return;
      case 'conversation.item.delete':
        this.requireRuntime(event.type).deleteItem(event.item_id, event.event_id);
        return;
      case 'conversation.item.truncate':
        this.send(this.itemEvents.truncate(event.item_id, event.content_index, event.audio_end_ms));
        return;
      case 'response.create':
        this.requireRuntime(event.type).createResponse(event.response, event.event_id);
        return;
      case 'response.cancel':
        // Nothing running is not an error: agents-realtime cancels on every interruption.
        this.runtime?.cancelResponse('client_cancelled');
        return;
      default: {
        const unhandled: never = event;
        throw new EarshotError('E_UNSUPPORTED_FEATURE', `${(unhandled as { type: string }).type} is not supported by Earshot.`);
      }
    }
  }

  private requireRuntime(what: string): AgentRuntime {
    if (!this.runtime) throw new EarshotError('E_UNSUPPORTED_FEATURE', `${what} needs the agent runtime, which this server does not run.`);
    return this.runtime;
  }

  /** The agent named by session.update's `agent` field (Earshot extension), checked before anything applies. */
  private resolveAgentUpdate(session: Record<string, unknown>): AgentDefinition | null {
    const name = session.agent;
    if (typeof name !== 'string' || !this.opts.agent || name === this.state.agentName) return null;
    const agent = this.opts.agent.catalogue.get(name);
    if (!agent) {
      throw new EarshotError('E_AGENT_UNKNOWN', `Unknown agent ${JSON.stringify(name)}; known agents: ${this.opts.agent.catalogue.list().map((a) => a.name).join(', ')}.`, { param: 'session.agent' });
    }
    if (agent.sessionType !== this.state.type) {
      throw new EarshotError('E_UNSUPPORTED_FEATURE', `Agent ${name} serves ${agent.sessionType} sessions and this is a ${this.state.type} session; open a new connection with ?agent=${name}.`, { param: 'session.agent' });
    }
    return agent;
  }

  private appendAudio(bytes: Uint8Array): void {
    const incomingMs = bytesToMs(this.state.inputFormat, bytes.length);
    const pendingMs = this.pendingSamples16k / 16 + incomingMs;
    const limitMs = this.opts.config.server.max_pending_audio_ms;
    // While reading is paused, messages still arriving were already read from the socket in one chunk
    // (at most a socket read, about 64 KiB: 8 s of G.711), so they are accepted up to twice the bound;
    // otherwise a message that would pass the bound is refused.
    if (pendingMs > (this.inputPaused ? 2 * limitMs : limitMs)) {
      throw new EarshotError('E_AUDIO_BACKLOG', `Audio not accepted: ${Math.round(pendingMs)} ms would be waiting for processing (limit ${limitMs} ms). Send audio no faster than it can be processed.`);
    }
    const source = this.decoder.decode(bytes);
    const { samples16k, samples8k } = this.decoder.push(source);
    this.pushAudio(samples16k, samples8k);
  }

  private pushAudio(samples16k: Float32Array, samples8k?: Float32Array): void {
    if (samples16k.length === 0) return;
    this.pendingSamples16k += samples16k.length;
    this.history.append(samples16k);
    // Past half the backlog bound, stop reading the socket so TCP slows the sender down instead of
    // refusing audio; reading resumes once the pipeline has caught up to a quarter.
    if (!this.inputPaused && this.pendingSamples16k / 16 > this.opts.config.server.max_pending_audio_ms / 2) {
      this.inputPaused = true;
      this.opts.transport.pauseInput();
    }
    this.pipelineInput.next({ type: 'audio', samples16k, ...(samples8k && this.onlyTelephonySoFar ? { samples8k } : {}) });
  }

  private switchFormat(): void {
    // The old format's resampler tail belongs to audio already received: flush it before switching.
    this.pushAudio(this.decoder.flush());
    this.decoder = new InputAudioDecoder(this.state.inputFormat);
    if (this.decoder.sourceRateHz !== 8000) this.onlyTelephonySoFar = false;
  }

  private onSegmentEvent(event: SegmentEvent): void {
    switch (event.type) {
      case 'processed':
        this.pendingSamples16k -= event.samples16k;
        this.clockSamples16k += event.samples16k;
        this.runtime?.audioClock(this.clockSamples16k / 16);
        this.checkIdle();
        if (this.inputPaused && this.pendingSamples16k / 16 < this.opts.config.server.max_pending_audio_ms / 4) {
          this.inputPaused = false;
          this.opts.transport.resumeInput();
        }
        return;
      case 'speech_started':
        this.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: event.audioStartMs, item_id: event.itemId });
        this.idle.speechStarted();
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
        this.send({ type: 'input_audio_buffer.cleared' });
        return;
      case 'error':
        this.sendError(event.code, event.message);
        return;
    }
  }

  private commitUserAudio(itemId: string): void {
    const item: MessageItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null }],
    };
    const previous = this.items.append(itemId, item);
    this.send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: previous });
    this.send({ type: 'conversation.item.added', previous_item_id: previous, item });
  }

  /** idle_timeout_ms on the audio clock: commits the silent stretch, and the runtime may answer it. */
  private checkIdle(): void {
    const td = this.state.turnDetection;
    const clockMs = this.clockSamples16k / 16;
    const timeoutMs = td?.type === 'server_vad' ? td.idle_timeout_ms : null;
    const stretch = this.idle.check(clockMs, timeoutMs);
    // Keep only the audio an idle commit could need (the stretch so far, at most MAX_IDLE_AUDIO_MS).
    const keepFromMs = Math.max(this.idle.stretchStartMs ?? clockMs, clockMs - MAX_IDLE_AUDIO_MS);
    this.history.trimBefore(Math.floor(keepFromMs * 16));
    if (!stretch) return;
    const itemId = newItemId();
    this.send({ type: 'input_audio_buffer.timeout_triggered', audio_start_ms: stretch.startMs, audio_end_ms: stretch.endMs, item_id: itemId });
    this.commitUserAudio(itemId);
    const endSample = this.clockSamples16k;
    const startSample = Math.max(Math.round(stretch.startMs * 16), endSample - MAX_IDLE_AUDIO_MS * 16);
    this.runtime?.enqueueIdleTimeout({ itemId, pcm16k: this.history.slice(startSample, endSample), startSample, endSample, silenceMs: stretch.endMs - stretch.startMs });
  }

  private onPipelineError(err: unknown): void {
    if (this.disposed) return;
    const code: ErrorCode = isEarshotError(err) ? err.code : 'E_INTERNAL';
    this.opts.log.error({ err }, 'audio pipeline failed');
    this.sendError(code, 'The audio pipeline failed for this connection; reconnect to continue.');
  }

  private get dialect(): Dialect {
    return this.opts.dialect ?? 'ga';
  }

  private send(payload: ServerEventPayload): void {
    if (this.disposed) return;
    if (payload.type === 'response.created') this.idle.responseStarted();
    else if (payload.type === 'response.done') this.idle.responseDone(this.clockSamples16k / 16);
    this.emit(serverEvent(payload));
    this.itemEvents.observe(payload);
  }

  private sendError(code: ErrorCode, message: string, param?: string, clientEventId?: string): void {
    if (this.disposed) return;
    this.emit(errorEvent(code, message, { param, clientEventId }));
  }

  private emit(event: ServerEvent): void {
    emitIn(this.dialect, this.opts.transport, event);
    for (const sideband of this.sidebands) emitIn(sideband.dialect, sideband.transport, event);
  }
}

/** Sends a GA event in the transport's dialect (beta renames, or drops events the beta API lacks). */
function emitIn(dialect: Dialect, transport: Pick<ConnectionTransport, 'send'>, event: ServerEvent): void {
  if (dialect === 'ga') return transport.send(event);
  const beta = toBetaServerEvent(event);
  if (beta) transport.send(beta as unknown as ServerEvent);
}

function requestedAgentIsExplicit(opts: ConnectionOptions): boolean {
  return typeof opts.agent?.agentName === 'string' && opts.agent.agentName !== '';
}
