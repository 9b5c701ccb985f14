// One assistant message spoken (output_modalities ["audio"]): its text deltas become transcript deltas
// and feed a SpeechStream; the audio goes out as `response.output_audio.delta` events (WebSocket) or into
// the transport's player (WebRTC), as it is synthesised. finish() resolves once every sample is out, so
// response.done never precedes the audio; cancel() stops synthesis at once. The .done events are sent in
// both cases (OpenAI sends them for interrupted answers too). The player's end() is per response, so the
// runner calls endAnswerAudio once the response has no more audio.
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { SpeechStream } from '../tts/synthesizer.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../tts/synthesizer.ts';
import { spokenRecordOf, type SpokenRecord } from './spoken_record.ts';

/** The transport's player (the session's AudioOutputSink, seen structurally: agent/ never imports session/). */
export interface AnswerAudioPlayer {
  write(responseId: string, itemId: string, pcm24k: Int16Array): void;
  end(responseId: string): void;
}

export type AnswerAudioDelivery =
  /** WebSocket: audio deltas; `newEncoder` gives one answer's encoder (24 kHz PCM -> the session's wire bytes). */
  { kind: 'events'; newEncoder(): AudioWireEncoder } | { kind: 'player'; player: AnswerAudioPlayer };

/** Stateful (a resampler for G.711): `flush` returns what the last samples still hold back. */
export interface AudioWireEncoder {
  push(pcm24k: Int16Array): Uint8Array;
  flush(): Uint8Array;
}

/** How one response speaks; null from the runtime's `speech` option means a text answer. */
export interface AnswerSpeech {
  /** A fresh stream for one assistant message (voice and speed already chosen). */
  openStream(): SpeechStream;
  delivery: AnswerAudioDelivery;
}

interface ContentRef {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}

export class SpokenAnswer {
  private transcript = '';
  private samples24k = 0;
  private stopped = false;
  private readonly stream: SpeechStream;
  private readonly pump: Promise<void>;

  constructor(
    speech: AnswerSpeech,
    private readonly ref: ContentRef,
    private readonly emit: (payload: ServerEventPayload) => void,
    private readonly signal: AbortSignal,
  ) {
    emit({ type: 'response.content_part.added', ...ref, part: { type: 'audio', transcript: '' } });
    this.stream = speech.openStream();
    // Control has its own lane: a barge-in stops synthesis now, not at the next text delta.
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.cancel();
    this.pump = this.deliver(speech.delivery).catch(() => {
      // A failing engine ends this answer's audio; the transcript is still complete and correct.
    });
  }

  text(delta: string): void {
    if (delta === '' || this.stopped) return;
    this.transcript += delta;
    this.emit({ type: 'response.output_audio_transcript.delta', ...this.ref, delta });
    this.stream.push(delta);
  }

  /** No more text: waits for the remaining audio, then sends the .done events. Returns the transcript. */
  async finish(): Promise<SpokenRecord> {
    if (!this.stopped) this.stream.end();
    await this.pump;
    this.signal.removeEventListener('abort', this.onAbort);
    return this.done();
  }

  /** Stops synthesis now (barge-in, response.cancel); finish() then returns without waiting for audio. */
  cancel(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stream.cancel();
  }

  private readonly onAbort = (): void => this.cancel();

  private done(): SpokenRecord {
    this.emit({ type: 'response.output_audio.done', ...this.ref });
    this.emit({ type: 'response.output_audio_transcript.done', ...this.ref, transcript: this.transcript });
    this.emit({
      type: 'response.content_part.done',
      ...this.ref,
      part: { type: 'audio', transcript: this.transcript },
    });
    return spokenRecordOf(this.transcript, this.samples24k, this.stream);
  }

  private async deliver(delivery: AnswerAudioDelivery): Promise<void> {
    const encoder = delivery.kind === 'events' ? delivery.newEncoder() : null;
    try {
      for await (const pcm of this.stream.audio) {
        // Not one more sample after a cancel, whatever the stream still had queued.
        if (this.stopped) break;
        if (pcm.length === 0) continue;
        this.samples24k += pcm.length;
        if (delivery.kind === 'player') delivery.player.write(this.ref.response_id, this.ref.item_id, pcm);
        else this.sendDelta(encoder!.push(pcm));
      }
      if (encoder && !this.stopped) this.sendDelta(encoder.flush());
    } catch (err) {
      // A failed engine: nothing more is synthesised for this answer.
      this.stream.cancel();
      throw err;
    }
  }

  private sendDelta(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.emit({
      type: 'response.output_audio.delta',
      ...this.ref,
      delta: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    });
  }

  /** Milliseconds of audio produced so far. */
  get audioMs(): number {
    return (this.samples24k * 1000) / SPEECH_OUTPUT_RATE_HZ;
  }
}

/** The response has no more audio: the player drains what it holds (output_audio_buffer.stopped). */
export function endAnswerAudio(speech: AnswerSpeech | null, responseId: string): void {
  if (speech?.delivery.kind === 'player') speech.delivery.player.end(responseId);
}
