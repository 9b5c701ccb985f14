// Admitted Realtime sessions' lifecycle: a slot from admission, the connection's outgoing events observed
// for metrics and the transcript store, rate_limits.updated after each response, idle / duration expiry,
// and graceful shutdown. It lives in the session layer so that transports do I/O only: they hand a socket
// peer here and drive the handler returned. A connection is driven only through its public surface
// (start, handleText, handleBinary, dispose) and the transport it is given.
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { EarshotMetrics, EndReasonLabel } from '../observability/metrics.ts';
import { SessionMetrics } from '../session/session_metrics.ts';
import type { Utterance } from '../pipeline/types.ts';
import { encodeServerEventIn, type Dialect } from '../protocol/beta_dialect.ts';
import { encodeServerEvent } from '../protocol/codec.ts';
import { errorEvent, serverEvent, type ServerEvent } from '../protocol/server_events.ts';
import { precheckTextFrame } from '../protocol/text_frame_precheck.ts';
import { TranscriptRecorder } from '../session/transcript_recorder.ts';
import type { TranscriptStore } from '../store/transcript_store.ts';
import type { VadStream } from '../vad/vad_batcher.ts';
import type { AdmissionController, SessionExpiry, SessionTicket } from '../transport/admission.ts';
import type { AuthIdentity } from '../transport/auth.ts';
import type { SocketHandler, SocketPeer } from '../transport/ws_server.ts';

/** The part of RealtimeConnection that session admission and bookkeeping drive. */
export interface ManagedConnection extends SocketHandler {
  start(): void;
  /** Audio already decoded to 16 kHz (WebRTC). */
  handlePcm16k(samples16k: Float32Array): void;
}

/** What a transport drives: events, binary audio frames, or decoded audio. */
export interface LiveSessionHandler extends SocketHandler {
  handlePcm16k(samples16k: Float32Array): void;
}

/** What a connection is built with: its transport and the hooks that observe it. */
export interface ConnectionHooks {
  send(event: ServerEvent): void;
  onUtterance(u: Utterance): void;
  onAudioIn(samples16k: number): void;
  wrapVadStream(stream: VadStream): VadStream;
}

export interface LiveSessionsOptions {
  admission: AdmissionController;
  metrics: EarshotMetrics;
  store: TranscriptStore | null;
  log: Logger;
  /** Context budget reported as the `tokens` rate limit. */
  contextBudgetTokens: number;
  /** limits.max_text_event_bytes: larger text frames without audio are refused before decoding. */
  maxTextEventBytes?: number;
}

/** Errors after which the client is told the capacity it has left. */
const CAPACITY_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_ENGINE_BUSY',
  'E_AUDIO_BACKLOG',
  'E_CAPACITY',
  'E_OVERLOADED',
  'E_QUEUE_FULL',
]);

const CANCEL_EVENT = JSON.stringify({ type: 'response.cancel' });

class LiveSession implements LiveSessionHandler {
  connection: ManagedConnection | null = null;
  readonly metrics: SessionMetrics;
  readonly recorder: TranscriptRecorder | null;
  endReason: EndReasonLabel = 'client_closed';
  private usedTokens: number | null = null;
  private storeErrorReported = false;
  private disposed = false;

  constructor(
    private readonly owner: LiveSessions,
    readonly peer: SocketPeer,
    readonly identity: AuthIdentity,
    readonly ticket: SessionTicket,
    /** The client's dialect: events are observed in the GA shape, then spelled in it on the wire. */
    private readonly dialect: Dialect,
  ) {
    this.metrics = new SessionMetrics(owner.opts.metrics);
    this.recorder = owner.opts.store
      ? new TranscriptRecorder({
          store: owner.opts.store,
          keyId: identity.keyId,
          onWriteFailed: () => queueMicrotask(() => this.storeWriteFailed()),
        })
      : null;
  }

  get hooks(): ConnectionHooks {
    return {
      send: (event) => this.send(event),
      onUtterance: (u) => {
        this.metrics.utterance(u);
        this.recorder?.utterance(u);
      },
      onAudioIn: (samples16k) => this.metrics.audioIn(samples16k),
      wrapVadStream: (stream) => this.metrics.wrapVadStream(stream),
    };
  }

  /** The store is written before the client sees the event: what a client was told is on disk. */
  send(event: ServerEvent): void {
    this.metrics.observe(event);
    this.recorder?.observe(event);
    const text = encodeServerEventIn(this.dialect, event);
    if (text !== null) this.peer.sendText(text);
    if (event.type === 'response.done') {
      if (event.response.usage) this.usedTokens = event.response.usage.total_tokens;
      this.sendRateLimits();
    } else if (event.type === 'error' && CAPACITY_ERRORS.has(event.error.code)) {
      this.sendRateLimits();
    }
  }

  sendRateLimits(): void {
    const context =
      this.usedTokens === null
        ? undefined
        : { limitTokens: this.owner.opts.contextBudgetTokens, usedTokens: this.usedTokens };
    const payload = this.owner.opts.admission.rateLimitsEvent(this.identity.keyId, context);
    this.peer.sendText(encodeServerEvent(serverEvent(payload)));
  }

  /** Told once per session: later failures are in the log and the store_write_errors metric. */
  private storeWriteFailed(): void {
    if (this.storeErrorReported || this.disposed) return;
    this.storeErrorReported = true;
    this.send(
      errorEvent(
        'E_STORE',
        "The server could not save this session's transcript (its database is failing); the session goes on, but the stored transcript may be incomplete.",
      ),
    );
  }

  expire(expiry: SessionExpiry): void {
    if (this.disposed) return;
    this.endReason = expiry.reason;
    this.send(errorEvent(expiry.code, expiry.message));
    this.peer.close(expiry.closeCode, expiry.message.slice(0, 120));
  }

  handleText(text: string): void {
    this.ticket.touch();
    this.connection?.handleText(text);
  }

  /** A text frame before decoding: an oversized one without audio is refused from its length alone. */
  handleTextFrame(frame: Buffer): void {
    const bound = this.owner.opts.maxTextEventBytes;
    const refusal = bound === undefined ? null : precheckTextFrame(frame, bound);
    if (refusal === null) return this.handleText(frame.toString('utf8'));
    this.ticket.touch();
    this.send(errorEvent(refusal.code, refusal.message, { clientEventId: refusal.clientEventId }));
  }

  handleBinary(bytes: Uint8Array): void {
    this.ticket.touch();
    this.connection?.handleBinary(bytes);
  }

  handlePcm16k(samples16k: Float32Array): void {
    this.ticket.touch();
    this.connection?.handlePcm16k(samples16k);
  }

  /** Asks the connection to cancel its running response, as a client's response.cancel would. */
  cancelResponse(): void {
    if (this.metrics.inFlightResponses > 0) this.connection?.handleText(CANCEL_EVENT);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.connection?.dispose();
    } finally {
      this.recorder?.end(this.endReason);
      this.ticket.release();
      this.owner.opts.metrics.sessionsEnded.inc({ reason: this.endReason });
      this.owner.forget(this);
    }
  }
}

export class LiveSessions {
  private readonly sessions = new Set<LiveSession>();

  constructor(readonly opts: LiveSessionsOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Responses started and not finished, over all sessions. */
  get inFlightResponses(): number {
    let n = 0;
    for (const s of this.sessions) n += s.metrics.inFlightResponses;
    return n;
  }

  /**
   * Admits the connection (the gate checked capacity before the upgrade; admit() takes the slot), builds
   * it with observed hooks and starts it: session.created, then rate_limits.updated.
   */
  open(
    peer: SocketPeer,
    identity: AuthIdentity,
    build: (hooks: ConnectionHooks) => ManagedConnection,
    dialect: Dialect = 'ga',
  ): LiveSessionHandler {
    let session: LiveSession | null = null;
    const admitted = this.opts.admission.admit(identity.keyId, (expiry) => session?.expire(expiry));
    if (!admitted.ok) {
      // Only reachable if capacity changed between the gate and the handshake.
      peer.sendText(encodeServerEvent(errorEvent(admitted.code, admitted.message)));
      peer.sendText(encodeServerEvent(serverEvent(this.opts.admission.rateLimitsEvent(identity.keyId))));
      peer.close(admitted.closeCode, admitted.message.slice(0, 120));
      return { handleText() {}, handleBinary() {}, handlePcm16k() {}, dispose() {} };
    }
    session = new LiveSession(this, peer, identity, admitted.ticket, dialect);
    this.sessions.add(session);
    try {
      session.connection = build(session.hooks);
      session.connection.start();
      session.sendRateLimits();
    } catch (err) {
      session.endReason = 'error';
      session.dispose();
      throw err;
    }
    return session;
  }

  /** Sends every session its rate_limits.updated now (the server's capacity just changed). */
  broadcastRateLimits(): void {
    for (const s of this.sessions) s.sendRateLimits();
  }

  /** Cancels every running response (shutdown deadline reached). */
  cancelResponses(): void {
    for (const s of this.sessions) s.cancelResponse();
  }

  /** From now on sessions that end are recorded as ended by shutdown. */
  markShutdown(): void {
    for (const s of this.sessions) s.endReason = 'shutdown';
  }

  /** @internal */
  forget(session: LiveSession): void {
    this.sessions.delete(session);
  }
}
