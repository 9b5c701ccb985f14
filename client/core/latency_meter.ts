// The delay a user feels: from the end of their speech (the server's `speech_stopped`) to the first text
// that answers it. Two readings per utterance: the first caption text (transcription delta or
// completed) and the first answer text (`response.output_text.delta`). Measured on the client's own
// clock at event arrival, so it includes the network both ways and any server queueing.
import type { ServerEvent } from '../../src/protocol/server_events.ts';

export interface LatencySample {
  itemId: string;
  /** speech_stopped -> first caption text for that utterance, ms. */
  captionMs: number | null;
  /** speech_stopped -> first answer text after it, ms. */
  answerMs: number | null;
}

export class LatencyMeter {
  private readonly samples = new Map<string, LatencySample & { stoppedAtMs: number }>();
  /** The utterance an answer delta is attributed to: the newest one that has no answer reading yet. */
  private awaitingAnswer: string | null = null;

  constructor(private readonly nowMs: () => number) {}

  /** Returns the sample that got a new reading, or null. */
  apply(event: ServerEvent): LatencySample | null {
    switch (event.type) {
      case 'input_audio_buffer.speech_stopped': {
        const sample = { itemId: event.item_id, captionMs: null, answerMs: null, stoppedAtMs: this.nowMs() };
        this.samples.set(event.item_id, sample);
        this.awaitingAnswer = event.item_id;
        return null;
      }
      case 'conversation.item.input_audio_transcription.delta':
      case 'conversation.item.input_audio_transcription.completed': {
        const sample = this.samples.get(event.item_id);
        const hasText =
          event.type === 'conversation.item.input_audio_transcription.delta'
            ? event.delta !== ''
            : event.transcript !== '';
        if (!sample || sample.captionMs !== null || !hasText) return null;
        sample.captionMs = this.nowMs() - sample.stoppedAtMs;
        return publicSample(sample);
      }
      case 'response.output_text.delta': {
        const sample = this.awaitingAnswer === null ? undefined : this.samples.get(this.awaitingAnswer);
        if (!sample || event.delta === '') return null;
        sample.answerMs = this.nowMs() - sample.stoppedAtMs;
        this.awaitingAnswer = null;
        return publicSample(sample);
      }
      default:
        return null;
    }
  }

  all(): LatencySample[] {
    return [...this.samples.values()].map(publicSample);
  }

  /** The most recent reading of either kind: what the page shows. */
  latest(): { kind: 'caption' | 'answer'; ms: number } | null {
    let found: { kind: 'caption' | 'answer'; ms: number } | null = null;
    for (const s of this.samples.values()) {
      if (s.answerMs !== null) found = { kind: 'answer', ms: s.answerMs };
      else if (s.captionMs !== null) found = { kind: 'caption', ms: s.captionMs };
    }
    return found;
  }
}

function publicSample(s: LatencySample): LatencySample {
  return { itemId: s.itemId, captionMs: s.captionMs, answerMs: s.answerMs };
}

/** Median of the readings that exist, or null. */
export function medianMs(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}
