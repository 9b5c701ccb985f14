// Spoken answers on a WebRTC call: the AudioOutputSink the session writes PCM to. Audio waits in a
// bounded per-call buffer and leaves as 20 ms Opus RTP packets paced at real time, once DTLS is up (werift
// silently drops packets sent before). Playback is reported as output_audio_buffer.started / stopped /
// cleared, the events OpenAI's WebRTC clients expect.
import { randomInt } from 'node:crypto';
import { RtpHeader, RtpPacket } from 'werift';
import type { Logger } from '../../observability/logger.ts';
import type { AudioOutputEvent, AudioOutputSink, PlayedAudio } from '../audio_output.ts';
import type { WebRtcConfig } from '../../config/webrtc_schema.ts';
import { FramePacer, type PacerClock } from './frame_pacer.ts';
import { OPUS_ENCODE_RATE_HZ, OpusFrameEncoder } from './opus_frame_encoder.ts';
import { OutputAudioQueue, type OutputFrame } from './output_audio_queue.ts';

/** What the sink needs of an RTP track: werift's MediaStreamTrack.writeRtp. */
export interface RtpWriter {
  writeRtp(packet: RtpPacket): void;
}

export interface WebRtcAudioOutputOptions {
  config: Pick<
    WebRtcConfig,
    | 'output_buffer_max_seconds'
    | 'output_frame_ms'
    | 'output_bitrate_bps'
    | 'output_max_catch_up_frames'
    | 'output_pacer_early_ms'
  >;
  track: RtpWriter;
  log: Logger;
  callId: string;
  clock?: PacerClock;
  /** First RTP sequence number and timestamp (random by default, as RFC 3550 asks). */
  firstSequenceNumber?: number;
  firstTimestamp?: number;
}

export interface AudioOutputStats {
  framesSent: number;
  /** Milliseconds of audio dropped because the buffer was full. */
  droppedMs: number;
  /** Times playback ran dry before its response ended (the synthesizer fell behind real time). */
  underruns: number;
  /** Times the pacer moved its schedule after a stall longer than output_max_catch_up_frames. */
  resyncs: number;
}

export class WebRtcAudioOutput implements AudioOutputSink {
  private readonly queue: OutputAudioQueue;
  private readonly pacer: FramePacer;
  private readonly encoder: OpusFrameEncoder;
  private readonly frameSamples: number;
  private readonly frameMs: number;
  private emit: (event: AudioOutputEvent) => void = () => {};
  private connected = false;
  private closed = false;
  private sequenceNumber: number;
  private timestamp: number;
  /** Set after a pause in the stream: the next packet carries the marker bit and a timestamp jump. */
  private afterSilence = true;
  private lastSentAtMs: number | null = null;
  private droppedSamples48k = 0;
  private underruns = 0;
  private warnedOverflow = false;
  private readonly clock: PacerClock | undefined;
  /**
   * Called after each frame is handed to the track, with the clock's time then and the frame's due time
   * (the benchmark records the server's own send times with it).
   */
  onFrameSent: ((sentAtMs: number, dueAtMs: number) => void) | null = null;

  constructor(private readonly opts: WebRtcAudioOutputOptions) {
    const { config } = opts;
    this.frameMs = config.output_frame_ms;
    this.frameSamples = (OPUS_ENCODE_RATE_HZ * this.frameMs) / 1000;
    this.queue = new OutputAudioQueue({
      frameSamples: this.frameSamples,
      maxBufferedSamples: Math.round(config.output_buffer_max_seconds * OPUS_ENCODE_RATE_HZ),
    });
    this.encoder = new OpusFrameEncoder({ bitrateBps: config.output_bitrate_bps, frameSamples: this.frameSamples });
    this.clock = opts.clock;
    this.pacer = new FramePacer({
      frameMs: this.frameMs,
      maxCatchUpFrames: config.output_max_catch_up_frames,
      earlyMs: config.output_pacer_early_ms,
      sendFrame: (dueAtMs) => this.sendFrame(dueAtMs),
      onIdle: () => this.onIdle(),
      clock: opts.clock,
    });
    // Holds the last number used: the first packet gets firstSequenceNumber.
    this.sequenceNumber = ((opts.firstSequenceNumber ?? randomInt(0, 0x10000)) - 1) & 0xffff;
    this.timestamp = opts.firstTimestamp ?? randomInt(0, 0x1_0000_0000);
  }

  get stats(): AudioOutputStats {
    return {
      framesSent: this.pacer.stats.framesSent,
      droppedMs: Math.round(this.droppedSamples48k / (OPUS_ENCODE_RATE_HZ / 1000)),
      underruns: this.underruns,
      resyncs: this.pacer.stats.resyncs,
    };
  }

  setEventSink(emit: (event: AudioOutputEvent) => void): void {
    this.emit = emit;
  }

  write(responseId: string, itemId: string, pcm24k: Int16Array): void {
    if (this.closed || pcm24k.length === 0) return;
    const dropped = this.queue.write(responseId, itemId, pcm24k);
    if (dropped > 0) this.onOverflow(responseId, dropped);
    this.kick();
  }

  end(responseId: string): void {
    if (this.closed) return;
    if (this.queue.end(responseId)) this.emit({ type: 'output_audio_buffer.stopped', response_id: responseId });
    this.kick();
  }

  clear(): PlayedAudio | null {
    this.pacer.stop();
    this.afterSilence = true;
    const cleared = this.queue.clear();
    if (!cleared) return null;
    this.emit({ type: 'output_audio_buffer.cleared', response_id: cleared.responseId });
    return { itemId: cleared.itemId, playedMs: cleared.playedMs };
  }

  isPlaying(): boolean {
    return this.queue.active;
  }

  bufferedMs(): number {
    return this.queue.bufferedMs;
  }

  /**
   * The peer connection is (or is no longer) connected with DTLS up. Frames only leave while it is:
   * audio written before waits in the buffer, and a disconnection pauses playback rather than losing it.
   */
  setConnected(connected: boolean): void {
    this.connected = connected;
    if (connected) this.kick();
    else {
      this.pacer.stop();
      this.afterSilence = true;
    }
  }

  /** The call has ended: stop the clock and free the encoder. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacer.stop();
    this.queue.clear();
    this.encoder.close();
  }

  private kick(): void {
    if (this.connected && !this.closed && !this.pacer.isRunning && this.queue.active) this.pacer.start();
  }

  private sendFrame(dueAtMs: number): boolean {
    const frame = this.queue.takeFrame();
    if (!frame) return false;
    try {
      this.opts.track.writeRtp(this.packetOf(frame));
    } catch (error) {
      // The pacing clock is shared by every call: one call's failed send must not reach the others (or the
      // process). Its playback stops here; the next audio written starts it again.
      this.opts.log.warn(
        { callId: this.opts.callId, error: error instanceof Error ? error.message : String(error) },
        'webrtc: an audio frame could not be sent; playback of this call stops',
      );
      return false;
    }
    this.onFrameSent?.((this.clock ?? performance).now(), dueAtMs);
    if (frame.first) this.emit({ type: 'output_audio_buffer.started', response_id: frame.responseId });
    if (frame.last) this.emit({ type: 'output_audio_buffer.stopped', response_id: frame.responseId });
    return true;
  }

  private packetOf(frame: OutputFrame): RtpPacket {
    const now = (this.clock ?? performance).now();
    if (this.afterSilence) {
      // RTP time keeps running through a pause: advance by the frames the silence lasted (at least one).
      const silentFrames =
        this.lastSentAtMs === null ? 0 : Math.max(1, Math.round((now - this.lastSentAtMs) / this.frameMs));
      this.timestamp = (this.timestamp + silentFrames * this.frameSamples) >>> 0;
    } else {
      this.timestamp = (this.timestamp + this.frameSamples) >>> 0;
    }
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    const marker = this.afterSilence;
    this.afterSilence = false;
    this.lastSentAtMs = now;
    const header = new RtpHeader({
      payloadType: 111,
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      marker,
    });
    return new RtpPacket(header, this.encoder.encode(frame.pcm48k));
  }

  private onIdle(): void {
    // A response still open after frames went out has run dry (not a write too short for one frame).
    if (!this.afterSilence && this.queue.active) this.underruns++;
    this.afterSilence = true;
  }

  private onOverflow(responseId: string, dropped48k: number): void {
    this.droppedSamples48k += dropped48k;
    if (this.warnedOverflow) return;
    this.warnedOverflow = true;
    const maxSeconds = this.opts.config.output_buffer_max_seconds;
    this.opts.log.warn(
      { callId: this.opts.callId, responseId, maxSeconds },
      'webrtc output buffer full: spoken audio past webrtc.output_buffer_max_seconds is dropped',
    );
  }
}
