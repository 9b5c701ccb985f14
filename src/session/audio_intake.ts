// Input audio on its way into the pipeline: decoding in the session's format, the pending-audio bound
// (server.max_pending_audio_ms) and TCP backpressure. Audio waiting for the pipeline is counted in 16 kHz
// samples from the moment it is pushed until the segmenter reports it processed.
import type { EarshotConfig } from '../config/schema.ts';
import { ReusableArray } from '../audio/reusable_array.ts';
import { EarshotError } from '../errors.ts';
import { decodeBase64Audio } from '../protocol/base64.ts';
import type { ConnectionTransport } from './connection_types.ts';
import { bytesToMs, InputAudioDecoder, type InputAudioFormat } from './input_audio.ts';

export class AudioIntake {
  private decoder: InputAudioDecoder;
  /** Decoded bytes of the latest input_audio_buffer.append: consumed (decoded) before the next one. */
  private readonly bytesScratch = new ReusableArray((n) => new Uint8Array(n));
  private pendingSamples16k = 0;
  private inputPaused = false;
  /** Whether every format so far was 8 kHz telephony: only then does the 8 kHz copy go to the pipeline. */
  private onlyTelephonySoFar: boolean;

  constructor(
    private readonly config: EarshotConfig,
    /** The session's input format, read at call time (session.update may change it). */
    private readonly format: () => InputAudioFormat,
    private readonly transport: Pick<ConnectionTransport, 'pauseInput' | 'resumeInput'>,
    /** Where accepted audio goes (the audio history and the pipeline). */
    private readonly push: (samples16k: Float32Array, samples8k?: Float32Array) => void,
  ) {
    this.decoder = new InputAudioDecoder(format());
    this.onlyTelephonySoFar = this.decoder.sourceRateHz === 8000;
  }

  /** input_audio_buffer.append's base64 audio; throws E_INVALID_BASE64 (param `audio`) and as append() does. */
  appendBase64(audio: string): void {
    const decoded = decodeBase64Audio(audio, (n) => this.bytesScratch.take(n));
    if (!decoded.ok) throw new EarshotError(decoded.code, decoded.message, { param: 'audio' });
    this.append(decoded.bytes);
  }

  /** Encoded audio in the session's format (input_audio_buffer.append, binary frames); throws E_AUDIO_BACKLOG. */
  append(bytes: Uint8Array): void {
    const incomingMs = bytesToMs(this.format(), bytes.length);
    const pendingMs = this.pendingSamples16k / 16 + incomingMs;
    const limitMs = this.config.server.max_pending_audio_ms;
    // While reading is paused, messages still arriving were already read from the socket in one chunk
    // (at most a socket read, about 64 KiB: 8 s of G.711), so they are accepted up to twice the bound;
    // otherwise a message that would pass the bound is refused.
    if (pendingMs > (this.inputPaused ? 2 * limitMs : limitMs)) {
      throw new EarshotError(
        'E_AUDIO_BACKLOG',
        `Audio not accepted: ${Math.round(pendingMs)} ms would be waiting for processing (limit ${limitMs} ms). Send audio no faster than it can be processed.`,
      );
    }
    const source = this.decoder.decode(bytes);
    const { samples16k, samples8k } = this.decoder.push(source);
    this.pushAudio(samples16k, samples8k);
  }

  /** Audio already decoded at 16 kHz (WebRTC); throws E_AUDIO_BACKLOG past twice the bound. */
  appendPcm16k(samples16k: Float32Array): void {
    const pendingMs = (this.pendingSamples16k + samples16k.length) / 16;
    if (pendingMs > 2 * this.config.server.max_pending_audio_ms) {
      throw new EarshotError('E_AUDIO_BACKLOG', `Audio dropped: ${Math.round(pendingMs)} ms waiting for processing.`);
    }
    this.pushAudio(samples16k);
  }

  /** The session's input format changed. */
  switchFormat(): void {
    // The old format's resampler tail belongs to audio already received: flush it before switching.
    this.pushAudio(this.decoder.flush());
    this.decoder = new InputAudioDecoder(this.format());
    if (this.decoder.sourceRateHz !== 8000) this.onlyTelephonySoFar = false;
  }

  /** The pipeline processed this much of the pending audio. */
  processed(samples16k: number): void {
    this.pendingSamples16k -= samples16k;
  }

  /** Resumes reading once the pipeline has caught up to a quarter of the bound. */
  resumeIfCaughtUp(): void {
    if (this.inputPaused && this.pendingSamples16k / 16 < this.config.server.max_pending_audio_ms / 4) {
      this.inputPaused = false;
      this.transport.resumeInput();
    }
  }

  private pushAudio(samples16k: Float32Array, samples8k?: Float32Array): void {
    if (samples16k.length === 0) return;
    this.pendingSamples16k += samples16k.length;
    // Past half the backlog bound, stop reading the socket so TCP slows the sender down instead of
    // refusing audio; reading resumes once the pipeline has caught up to a quarter.
    if (!this.inputPaused && this.pendingSamples16k / 16 > this.config.server.max_pending_audio_ms / 2) {
      this.inputPaused = true;
      this.transport.pauseInput();
    }
    this.push(samples16k, samples8k && this.onlyTelephonySoFar ? samples8k : undefined);
  }
}
