import type { IncomingHttpHeaders } from 'node:http';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  useOPUS,
  type PeerConfig,
  type RTCDataChannel,
  type RTCRtpTransceiver,
} from 'werift';
import type { Logger } from '../../observability/logger.ts';
import type { AudioOutputSink } from '../audio_output.ts';
import type { WebRtcConfig } from '../../config/webrtc_schema.ts';
import { OpusPacketDecoder } from './opus_packet_decoder.ts';
import { RtpOpusInput, type RtpOpusInputStats } from './rtp_opus_input.ts';
import { WebRtcAudioOutput } from './webrtc_audio_output.ts';

/** The label OpenAI's clients give the events channel. */
export const EVENTS_CHANNEL_LABEL = 'oai-events';

/** What a call gives the session layer: the same shape as a WebSocket peer, minus flow control. */
export interface CallPeer {
  sendText(text: string): void;
  close(code: number, reason: string): void;
  /** The call's outbound audio track; absent when the peer's offer receives no audio. */
  audioOutput?: AudioOutputSink;
}

export interface CallSession {
  handleText(text: string): void;
  handlePcm16k(samples: Float32Array): void;
  dispose(): void;
}

export interface CallInfo {
  url: URL;
  headers: IncomingHttpHeaders;
  callId: string;
}

export type OpenCallSession = (peer: CallPeer, info: CallInfo) => CallSession;

export interface WebRtcCallOptions {
  info: CallInfo;
  config: WebRtcConfig;
  log: Logger;
  openSession: OpenCallSession;
  /** Called once when the call has ended, whatever the reason. */
  onEnded: (callId: string) => void;
}

export interface CallTimings {
  /** From the offer arriving to the answer being ready, in ms. */
  answerMs: number | null;
  /** From the offer arriving to the events channel opening, in ms. */
  connectMs: number | null;
}

/**
 * One WebRTC call: its peer connection, the `oai-events` channel and the microphone track, tied to one
 * session. Every way a call can end (hang-up, timeout, peer gone, session close) goes through hangUp(),
 * which disposes the session exactly once.
 */
export class WebRtcCall {
  readonly id: string;
  private readonly pc: RTCPeerConnection;
  private session: CallSession | null = null;
  private channel: RTCDataChannel | null = null;
  private input: RtpOpusInput | null = null;
  /** The one audio track that feeds the session: a call takes one microphone, the first one offered. */
  private audioTrack: MediaStreamTrack | null = null;
  /** Spoken answers to the peer, on the first audio transceiver (null when the offer does not receive audio). */
  private output: WebRtcAudioOutput | null = null;
  private readonly queued: string[] = [];
  private ended = false;
  private readonly startedAt = performance.now();
  private lastActivityAt = performance.now();
  private connectTimer: NodeJS.Timeout | null = null;
  private disconnectTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  readonly timings: CallTimings = { answerMs: null, connectMs: null };
  endReason: string | null = null;

  constructor(private readonly opts: WebRtcCallOptions) {
    this.id = opts.info.callId;
    this.pc = new RTCPeerConnection(peerConfig(opts.config));
  }

  get inputStats(): RtpOpusInputStats | null {
    return this.input?.stats ?? null;
  }

  /** The outbound audio sink (tests and benchmarks feed it directly). */
  get audioOutput(): WebRtcAudioOutput | null {
    return this.output;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Negotiates and returns the answer SDP (with all candidates: the answer is not trickled). Opens no
   * session, so a bad offer leaves nothing behind. Throws if werift rejects the offer; the caller then
   * hangs up.
   */
  async answer(offerSdp: string): Promise<string> {
    const { config, log } = this.opts;
    this.pc.onDataChannel.subscribe((channel) => this.onDataChannel(channel));
    this.pc.onTrack.subscribe((track) => this.onTrack(track));
    this.pc.connectionStateChange.subscribe((state) => this.onConnectionState(state));
    this.input = new RtpOpusInput({
      decoder: await OpusPacketDecoder.create(),
      depthPackets: config.jitter_buffer_packets,
      maxWaitMs: config.jitter_max_wait_ms,
      maxConcealMs: config.max_conceal_ms,
      onPcm16k: (samples) => this.session?.handlePcm16k(samples),
    });
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    const outbound = this.attachOutboundTrack();
    if (config.stun_servers.length === 0) {
      // werift falls back to a public STUN server when none is configured: "none" must mean none.
      for (const transport of this.pc.iceTransports)
        (transport.connection as { stunServer?: unknown }).stunServer = undefined;
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer); // gathers candidates before resolving
    if (outbound && outbound.currentDirection !== 'sendrecv' && outbound.currentDirection !== 'sendonly') {
      // The peer offered to send only: nothing can be played to it, so the session gets no audio sink.
      this.output?.close();
      this.output = null;
    }
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('werift produced no local description');
    if (this.ended) throw new Error('call ended during negotiation');
    this.timings.answerMs = performance.now() - this.startedAt;
    log.debug({ callId: this.id, answerMs: Math.round(this.timings.answerMs) }, 'webrtc call answered');
    return sdp;
  }

  /**
   * Opens the session (its first events queue until the channel opens) and starts the connect timeout.
   * Called after answer() and before the answer is sent, so no channel message can precede the session.
   */
  start(): void {
    this.peer.audioOutput = this.output ?? undefined;
    this.session = this.opts.openSession(this.peer, this.opts.info);
    this.connectTimer = setTimeout(
      () => this.hangUp('connect timeout: the events channel did not open'),
      this.opts.config.connect_timeout_ms,
    );
    this.connectTimer.unref();
  }

  /** Ends the call: disposes the session, frees the decoder, closes the peer connection. Idempotent. */
  hangUp(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    for (const timer of [this.connectTimer, this.disconnectTimer, this.idleTimer]) if (timer) clearTimeout(timer);
    this.input?.flush();
    const session = this.session;
    this.session = null;
    try {
      session?.dispose();
    } catch (err) {
      this.opts.log.error({ err, callId: this.id }, 'session dispose failed');
    }
    this.input?.close();
    this.output?.close();
    this.queued.length = 0;
    try {
      this.channel?.close();
    } catch {
      // already closed by the peer
    }
    this.pc
      .close()
      .catch((err: unknown) => this.opts.log.debug({ err, callId: this.id }, 'peer connection close failed'));
    this.opts.log.info(
      { callId: this.id, reason, stats: this.input?.stats, output: this.output?.stats },
      'webrtc call ended',
    );
    this.opts.onEnded(this.id);
  }

  /** Waits for werift to release sockets (used on server shutdown). */
  async closed(): Promise<void> {
    await this.pc.close().catch(() => undefined);
  }

  private readonly peer: CallPeer = {
    sendText: (text) => this.sendText(text),
    close: (_code, reason) => this.hangUp(`closed by the session: ${reason}`),
    audioOutput: undefined,
  };

  /**
   * Makes the first audio transceiver send as well as receive (before createAnswer, so the answer says
   * a=sendrecv) and puts the outbound track on it. Receiving is unchanged.
   */
  private attachOutboundTrack(): RTCRtpTransceiver | null {
    const transceiver = this.pc.getTransceivers().find((t) => t.kind === 'audio');
    if (!transceiver) return null;
    const track = new MediaStreamTrack({ kind: 'audio' });
    transceiver.setDirection('sendrecv');
    void transceiver.sender.replaceTrack(track);
    this.output = new WebRtcAudioOutput({ config: this.opts.config, track, log: this.opts.log, callId: this.id });
    return transceiver;
  }

  private sendText(text: string): void {
    if (this.ended) return;
    const channel = this.channel;
    if (channel?.readyState === 'open') {
      if (channel.bufferedAmount > this.opts.config.max_outbound_buffered_bytes) {
        this.hangUp('peer is not reading its events');
        return;
      }
      channel.send(text);
      return;
    }
    if (this.queued.length >= this.opts.config.max_queued_events) {
      this.hangUp('too many events queued before the events channel opened');
      return;
    }
    this.queued.push(text);
  }

  private onDataChannel(channel: RTCDataChannel): void {
    if (channel.label !== EVENTS_CHANNEL_LABEL || this.channel) {
      // Only one events channel per call; others are refused rather than silently ignored.
      channel.close();
      return;
    }
    this.channel = channel;
    channel.onMessage.subscribe((data) => this.onChannelMessage(data));
    channel.stateChanged.subscribe((state) => {
      if (state === 'open') this.onChannelOpen();
      else if (state === 'closed' || state === 'closing') this.hangUp('events channel closed by the peer');
    });
    if (channel.readyState === 'open') this.onChannelOpen();
  }

  private onChannelOpen(): void {
    if (this.ended || this.timings.connectMs !== null) return;
    this.timings.connectMs = performance.now() - this.startedAt;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.touch();
    this.armIdleTimer();
    this.opts.log.info({ callId: this.id, connectMs: Math.round(this.timings.connectMs) }, 'webrtc call connected');
    const queued = this.queued.splice(0);
    for (const text of queued) this.sendText(text);
  }

  private onChannelMessage(data: string | Buffer): void {
    if (this.ended || !this.session) return;
    this.touch();
    try {
      this.session.handleText(typeof data === 'string' ? data : data.toString('utf8'));
    } catch (err) {
      // A handler bug must never take the process (or other calls) down.
      this.opts.log.error({ err, callId: this.id }, 'call handler failed');
      this.hangUp('internal error');
    }
  }

  private onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'audio') return;
    if (this.audioTrack !== null) {
      // Two streams through one jitter buffer and decoder would interleave into noise: the extra ones are
      // negotiated (the offer stays valid) and their packets dropped.
      this.opts.log.info(
        { callId: this.id, ssrc: track.ssrc },
        'ignoring a further audio track: a call takes the first one offered',
      );
      return;
    }
    this.audioTrack = track;
    track.onReceiveRtp.subscribe((rtp) => {
      if (this.ended) return;
      this.touch();
      try {
        this.input?.push({
          sequenceNumber: rtp.header.sequenceNumber,
          timestamp: rtp.header.timestamp,
          payload: rtp.payload,
        });
      } catch (err) {
        this.opts.log.error({ err, callId: this.id }, 'audio input failed');
        this.hangUp('internal error');
      }
    });
  }

  private onConnectionState(state: RTCPeerConnection['connectionState']): void {
    if (this.ended) return;
    // werift drops RTP until DTLS is connected, which 'connected' implies: the playback clock runs only then.
    this.output?.setConnected(state === 'connected');
    if (state === 'connected') {
      if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
      this.disconnectTimer = null;
    } else if (state === 'disconnected') {
      this.disconnectTimer ??= setTimeout(
        () => this.hangUp('peer disconnected'),
        this.opts.config.disconnect_timeout_ms,
      );
      this.disconnectTimer.unref();
    } else if (state === 'failed' || state === 'closed') {
      this.hangUp(`peer connection ${state}`);
    }
  }

  private touch(): void {
    this.lastActivityAt = performance.now();
  }

  private armIdleTimer(): void {
    const idleMs = this.opts.config.idle_timeout_ms;
    const remainingMs = Math.max(1, idleMs - (performance.now() - this.lastActivityAt));
    this.idleTimer = setTimeout(() => {
      if (this.ended) return;
      if (performance.now() - this.lastActivityAt >= idleMs) this.hangUp('idle: no audio or events from the peer');
      else this.armIdleTimer();
    }, remainingMs);
    this.idleTimer.unref();
  }
}

function peerConfig(config: WebRtcConfig): Partial<PeerConfig> {
  const portRange: [number, number] | undefined =
    config.ice_port_min !== undefined && config.ice_port_max !== undefined
      ? [config.ice_port_min, config.ice_port_max]
      : undefined;
  return {
    iceServers: config.stun_servers.map((urls) => ({ urls })),
    iceUseIpv4: config.ice_gather_interfaces,
    iceUseIpv6: config.ice_use_ipv6,
    iceAdditionalHostAddresses: config.ice_host_addresses,
    icePortRange: portRange,
    codecs: { audio: [useOPUS()] },
  };
}
