// The per-call playback buffer of spoken answers: 24 kHz PCM in (as the session writes it), 48 kHz frames
// out (the Opus RTP clock), response by response, with the audio of each item counted as it is taken, so
// a flush can say how much of the item the user heard. Pure bookkeeping: the pacer decides when.
import { float32ToInt16, int16ToFloat32 } from '../../audio/pcm.ts';
import { StreamingResampler } from '../../audio/resample.ts';

export const OUTPUT_INPUT_RATE_HZ = 24_000;
export const OUTPUT_RTP_RATE_HZ = 48_000;
const SAMPLES_48K_PER_MS = OUTPUT_RTP_RATE_HZ / 1000;
/**
 * Flushed responses whose late writes are still recognised and ignored. A flushed response's synthesis
 * stops within one sentence, long before 16 further responses could have been flushed.
 */
const FLUSHED_RESPONSES_REMEMBERED = 16;

export interface OutputFrame {
  responseId: string;
  /** frameSamples of 48 kHz PCM; the last frame of a response is padded with silence. */
  pcm48k: Int16Array;
  /** The response's first frame (output_audio_buffer.started). */
  first: boolean;
  /** The response's last frame: it has ended and nothing of it is left (output_audio_buffer.stopped). */
  last: boolean;
}

export interface ClearedAudio {
  responseId: string;
  itemId: string;
  /** Milliseconds of the item taken for sending before the flush. */
  playedMs: number;
}

interface Segment {
  itemId: string;
  samples: Int16Array;
  offset: number;
}

interface ResponseAudio {
  id: string;
  ended: boolean;
  started: boolean;
  segments: Segment[];
  bufferedSamples: number;
  /** Item being resampled (its tail is flushed when the item changes or the response ends). */
  resamplingItem: string | null;
  resampler: StreamingResampler | null;
  /** 48 kHz samples of each item taken so far, and the item of the last frame taken. */
  played: Map<string, number>;
  playingItem: string | null;
}

export interface OutputAudioQueueOptions {
  /** Samples per frame at 48 kHz (960 for 20 ms). */
  frameSamples: number;
  /** Most 48 kHz samples held over all responses; audio past it is dropped (see write). */
  maxBufferedSamples: number;
}

export class OutputAudioQueue {
  private readonly responses: ResponseAudio[] = [];
  private bufferedSamples = 0;
  /** Responses flushed by clear(): their late writes (synthesis still winding down) are ignored. */
  private readonly flushed = new Set<string>();

  constructor(private readonly opts: OutputAudioQueueOptions) {}

  /** 48 kHz samples waiting to be sent. */
  get buffered(): number {
    return this.bufferedSamples;
  }

  get bufferedMs(): number {
    return this.bufferedSamples / SAMPLES_48K_PER_MS;
  }

  /** True while any response has audio left to send or has not ended yet. */
  get active(): boolean {
    return this.responses.length > 0;
  }

  /**
   * Queues 24 kHz PCM of one item. Returns the 48 kHz samples dropped because the buffer was full: the
   * audio that fits is kept, the rest of this write is dropped (the session is writing faster than the
   * bound allows; an answer is cut rather than memory growing without limit).
   */
  write(responseId: string, itemId: string, pcm24k: Int16Array): number {
    if (this.flushed.has(responseId)) return 0;
    const response = this.responseFor(responseId);
    if (response.ended) return 0;
    if (response.resamplingItem !== itemId) {
      this.flushResampler(response);
      response.resamplingItem = itemId;
      response.resampler = new StreamingResampler(OUTPUT_INPUT_RATE_HZ, OUTPUT_RTP_RATE_HZ);
    }
    const upsampled = response.resampler!.push(int16ToFloat32(pcm24k));
    return this.append(response, itemId, upsampled);
  }

  /**
   * The response has no more audio: its tail is padded into a last frame when taken. Returns true when
   * it had already played everything (it is done now: output_audio_buffer.stopped is due at once).
   */
  end(responseId: string): boolean {
    const response = this.responses.find((r) => r.id === responseId);
    if (!response || response.ended) return false;
    this.flushResampler(response);
    response.ended = true;
    if (response.bufferedSamples > 0) return false;
    this.responses.splice(this.responses.indexOf(response), 1);
    return response.started;
  }

  /**
   * The next frame, or null when none can be sent now: nothing is buffered, or the head response has less
   * than a frame and has not ended (the synthesizer is behind; the peer hears a gap, not padding).
   */
  takeFrame(): OutputFrame | null {
    const response = this.responses[0];
    if (!response) return null;
    const { frameSamples } = this.opts;
    if (response.bufferedSamples < frameSamples && !(response.ended && response.bufferedSamples > 0)) return null;
    const pcm48k = new Int16Array(frameSamples);
    let filled = 0;
    while (filled < frameSamples && response.segments.length > 0) {
      const segment = response.segments[0];
      const count = Math.min(frameSamples - filled, segment.samples.length - segment.offset);
      pcm48k.set(segment.samples.subarray(segment.offset, segment.offset + count), filled);
      segment.offset += count;
      filled += count;
      response.played.set(segment.itemId, (response.played.get(segment.itemId) ?? 0) + count);
      response.playingItem = segment.itemId;
      if (segment.offset === segment.samples.length) response.segments.shift();
    }
    response.bufferedSamples -= filled;
    this.bufferedSamples -= filled;
    const first = !response.started;
    response.started = true;
    const last = response.ended && response.bufferedSamples === 0;
    if (last) this.responses.shift();
    return { responseId: response.id, pcm48k, first, last };
  }

  /**
   * Drops everything not yet taken. Returns the item that was playing (or about to) with the audio of it
   * already taken, and the response it belongs to; null when nothing was buffered or playing.
   */
  clear(): ClearedAudio | null {
    const response = this.responses[0];
    const cleared = response ? clearedOf(response) : null;
    for (const r of this.responses) {
      if (!r.ended) this.flushed.add(r.id);
    }
    while (this.flushed.size > FLUSHED_RESPONSES_REMEMBERED) this.flushed.delete(this.flushed.values().next().value!);
    this.responses.length = 0;
    this.bufferedSamples = 0;
    return cleared;
  }

  private responseFor(responseId: string): ResponseAudio {
    let response = this.responses.find((r) => r.id === responseId);
    if (!response) {
      response = {
        id: responseId,
        ended: false,
        started: false,
        segments: [],
        bufferedSamples: 0,
        resamplingItem: null,
        resampler: null,
        played: new Map(),
        playingItem: null,
      };
      this.responses.push(response);
    }
    return response;
  }

  private flushResampler(response: ResponseAudio): void {
    if (response.resampler && response.resamplingItem !== null)
      this.append(response, response.resamplingItem, response.resampler.flush());
    response.resampler = null;
  }

  private append(response: ResponseAudio, itemId: string, samples48k: Float32Array): number {
    const room = Math.max(0, this.opts.maxBufferedSamples - this.bufferedSamples);
    const kept = Math.min(room, samples48k.length);
    if (kept > 0) {
      response.segments.push({ itemId, samples: float32ToInt16(samples48k.subarray(0, kept)), offset: 0 });
      response.bufferedSamples += kept;
      this.bufferedSamples += kept;
    }
    return samples48k.length - kept;
  }
}

function clearedOf(response: ResponseAudio): ClearedAudio | null {
  const itemId = response.playingItem ?? response.segments[0]?.itemId ?? response.resamplingItem;
  if (itemId === null || itemId === undefined) return null;
  return {
    responseId: response.id,
    itemId,
    playedMs: Math.round((response.played.get(itemId) ?? 0) / SAMPLES_48K_PER_MS),
  };
}
