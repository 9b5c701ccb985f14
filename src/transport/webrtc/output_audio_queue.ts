// The per-call playback buffer of spoken answers: 24 kHz PCM in (as the session writes it), 48 kHz frames
// out (the Opus RTP clock), response by response, with the audio of each item counted as it is taken, so
// a flush can say how much of the item the user heard. Pure bookkeeping: the pacer decides when.
// Audio is kept at 24 kHz and resampled a frame or so at a time as frames are taken: a voice engine
// writes much faster than real time, and resampling whole answers as they arrive (20 calls at once)
// blocked the event loop for tens of ms, right when the first frames had to leave.
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
/** 24 kHz samples resampled per step when a frame is taken (20 ms: one frame's worth at 48 kHz). */
const RESAMPLE_STEP_SAMPLES_24K = 480;
const UPSAMPLE_FACTOR = OUTPUT_RTP_RATE_HZ / OUTPUT_INPUT_RATE_HZ;

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
  /** 24 kHz audio written and not yet resampled, in order. */
  input: Segment[];
  /** 48 kHz audio resampled and not yet taken. */
  segments: Segment[];
  /** 48 kHz samples of `segments`. */
  resampledSamples: number;
  /** Buffered audio in 48 kHz samples: resampled plus twice the 24 kHz input not yet resampled. */
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
    const room = Math.max(0, this.opts.maxBufferedSamples - this.bufferedSamples);
    const kept = Math.min(Math.floor(room / UPSAMPLE_FACTOR), pcm24k.length);
    if (kept > 0) {
      // A copy: the writer may reuse its buffer.
      response.input.push({ itemId, samples: pcm24k.slice(0, kept), offset: 0 });
      this.count(response, kept * UPSAMPLE_FACTOR);
    }
    return (pcm24k.length - kept) * UPSAMPLE_FACTOR;
  }

  /**
   * The response has no more audio: its tail is padded into a last frame when taken. Returns true when
   * it had already played everything (it is done now: output_audio_buffer.stopped is due at once).
   */
  end(responseId: string): boolean {
    const response = this.responses.find((r) => r.id === responseId);
    if (!response || response.ended) return false;
    response.ended = true;
    // Its resampler's tail is all that is left to resample when its input has all been taken.
    if (response.input.length === 0) this.flushResampler(response);
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
    this.resampleUpTo(response, frameSamples);
    if (response.resampledSamples < frameSamples && !(response.ended && response.resampledSamples > 0)) return null;
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
    response.resampledSamples -= filled;
    this.count(response, -filled);
    const first = !response.started;
    response.started = true;
    const last = response.ended && response.resampledSamples === 0 && response.input.length === 0;
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
        input: [],
        segments: [],
        resampledSamples: 0,
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

  /**
   * Resamples the head of the response's input, a step at a time, until `samples48k` are ready or the
   * input is used up (then, once the response has ended, the resampler's tail is flushed too).
   */
  private resampleUpTo(response: ResponseAudio, samples48k: number): void {
    while (response.resampledSamples < samples48k && response.input.length > 0) {
      const segment = response.input[0];
      if (response.resamplingItem !== segment.itemId || response.resampler === null) {
        this.flushResampler(response);
        response.resamplingItem = segment.itemId;
        response.resampler = new StreamingResampler(OUTPUT_INPUT_RATE_HZ, OUTPUT_RTP_RATE_HZ);
      }
      const count = Math.min(RESAMPLE_STEP_SAMPLES_24K, segment.samples.length - segment.offset);
      const step = segment.samples.subarray(segment.offset, segment.offset + count);
      segment.offset += count;
      if (segment.offset === segment.samples.length) response.input.shift();
      this.count(response, -count * UPSAMPLE_FACTOR);
      this.appendResampled(response, segment.itemId, response.resampler.push(int16ToFloat32(step)));
    }
    if (response.ended && response.input.length === 0) this.flushResampler(response);
  }

  private flushResampler(response: ResponseAudio): void {
    if (response.resampler && response.resamplingItem !== null)
      this.appendResampled(response, response.resamplingItem, response.resampler.flush());
    response.resampler = null;
  }

  private appendResampled(response: ResponseAudio, itemId: string, samples48k: Float32Array): void {
    if (samples48k.length === 0) return;
    response.segments.push({ itemId, samples: float32ToInt16(samples48k), offset: 0 });
    response.resampledSamples += samples48k.length;
    this.count(response, samples48k.length);
  }

  /** Adds to the buffered audio of the response and of the whole queue (48 kHz samples). */
  private count(response: ResponseAudio, samples48k: number): void {
    response.bufferedSamples += samples48k;
    this.bufferedSamples += samples48k;
  }
}

function clearedOf(response: ResponseAudio): ClearedAudio | null {
  const itemId =
    response.playingItem ?? response.segments[0]?.itemId ?? response.input[0]?.itemId ?? response.resamplingItem;
  if (itemId === null || itemId === undefined) return null;
  return {
    responseId: response.id,
    itemId,
    playedMs: Math.round((response.played.get(itemId) ?? 0) / SAMPLES_48K_PER_MS),
  };
}
