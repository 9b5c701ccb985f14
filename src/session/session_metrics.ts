// Metrics of one connection, observed from the outside: the server events it sends, its VAD stream (the
// audio clock) and the segmenter's utterances. It lives in the session layer because it reads the session's
// events; the metrics themselves (observability/metrics.ts) are fed plain numbers.
import type { Utterance } from '../pipeline/types.ts';
import type { ServerEvent } from '../protocol/server_events.ts';
import type { VadModel } from '../vad/silero_model.ts';
import type { VadStream } from '../vad/vad_batcher.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';

const SAMPLE_RATE_HZ = 16_000;
/** Arrival times of the last 4096 windows (131 s of audio): enough to look up any utterance's end. */
const ARRIVAL_RING = 4096;

/** Times every batched Silero run; one observation per run of its cost per window. */
export function instrumentVadModel(model: VadModel, metrics: Pick<EarshotMetrics, 'vadWindowSeconds'>): VadModel {
  return {
    createState: () => model.createState(),
    runBatch: async (windows, states) => {
      const t0 = performance.now();
      const out = await model.runBatch(windows, states);
      if (windows.length > 0) metrics.vadWindowSeconds.observe((performance.now() - t0) / 1000 / windows.length);
      return out;
    },
  };
}

export class SessionMetrics {
  private windows = 0;
  private readonly arrivalMs = new Float64Array(ARRIVAL_RING);
  private readonly committedAt = new Map<string, number>();
  private readonly responses = new Map<string, { createdMs: number; firstTokenMs?: number }>();
  private readonly now: () => number;

  constructor(
    private readonly metrics: EarshotMetrics,
    nowMs?: () => number,
  ) {
    this.now = nowMs ?? (() => performance.now());
  }

  /** Responses started and not yet done (graceful shutdown waits for these). */
  get inFlightResponses(): number {
    return this.responses.size;
  }

  /** Input audio reaching the pipeline, counted whether or not turn detection runs on it. */
  audioIn(samples16k: number): void {
    this.metrics.audioInputSeconds.inc(samples16k / SAMPLE_RATE_HZ);
  }

  /** Wraps the connection's VAD stream: notes when each window arrived (end-of-utterance delay). */
  wrapVadStream(stream: VadStream): VadStream {
    return {
      infer: (window) => {
        this.arrivalMs[this.windows % ARRIVAL_RING] = this.now();
        this.windows += 1;
        return stream.infer(window);
      },
      reset: () => stream.reset(),
      close: () => stream.close(),
    };
  }

  /**
   * End-of-utterance delay: from the moment the audio at the end of speech reached the server to now
   * (the commit). It includes silence_duration_ms, which is the point of the metric: what a caller waits.
   */
  utterance(u: Utterance): void {
    const windowIndex = Math.floor((u.speechEndMs * SAMPLE_RATE_HZ) / 1000 / 512);
    if (windowIndex >= this.windows || this.windows - windowIndex > ARRIVAL_RING) return;
    this.metrics.endOfUtteranceDelaySeconds.observe((this.now() - this.arrivalMs[windowIndex % ARRIVAL_RING]) / 1000);
  }

  observe(event: ServerEvent): void {
    switch (event.type) {
      case 'error':
        this.metrics.errors.inc({ code: event.error.code });
        return;
      case 'input_audio_buffer.committed':
        this.committedAt.set(event.item_id, this.now());
        return;
      case 'conversation.item.input_audio_transcription.completed': {
        const t = this.committedAt.get(event.item_id);
        if (t !== undefined) this.metrics.asrLatencySeconds.observe((this.now() - t) / 1000);
        this.committedAt.delete(event.item_id);
        return;
      }
      case 'conversation.item.input_audio_transcription.failed':
        this.committedAt.delete(event.item_id);
        this.metrics.errors.inc({ code: event.error.code });
        return;
      case 'response.created':
        this.responses.set(event.response.id, { createdMs: this.now() });
        return;
      case 'response.output_text.delta':
      case 'response.output_audio_transcript.delta':
      case 'response.function_call_arguments.delta': {
        const r = this.responses.get(event.response_id);
        if (r && r.firstTokenMs === undefined) {
          r.firstTokenMs = this.now();
          this.metrics.timeToFirstTokenSeconds.observe((r.firstTokenMs - r.createdMs) / 1000);
        }
        return;
      }
      case 'response.done': {
        const r = this.responses.get(event.response.id);
        this.responses.delete(event.response.id);
        const code = event.response.status_details?.error?.code;
        if (event.response.status === 'failed' && code) this.metrics.errors.inc({ code });
        const tokens = event.response.usage?.output_tokens ?? 0;
        // Decode speed after the first token (its time is the prefill's, counted in time to first token).
        if (r?.firstTokenMs !== undefined && tokens >= 2) {
          const seconds = (this.now() - r.firstTokenMs) / 1000;
          if (seconds > 0) this.metrics.tokensPerSecond.observe((tokens - 1) / seconds);
        }
        return;
      }
      default:
        return;
    }
  }
}
