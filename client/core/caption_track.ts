// Live captions assembled from server events: one caption per user utterance, interim while the
// transcription streams (`...input_audio_transcription.delta`), replaced by the final text
// (`.completed`). Timestamps are the session's audio clock (`audio_start_ms` / `audio_end_ms` of the
// speech events), so they match the audio the server heard, not the wall clock of the display.
// Pure state: no DOM and no Node, shared by the browser page, the Node client and `earshot stream`.
import type { ServerEvent } from '../../src/protocol/server_events.ts';

export interface Caption {
  itemId: string;
  /** Session audio time of the speech onset, ms; null when the item never had a speech_started. */
  startMs: number | null;
  /** Session audio time of the speech offset, ms; null until speech_stopped. */
  endMs: number | null;
  text: string;
  /** 'speaking' until speech_stopped, 'pending' until the final transcript, then 'final' or 'failed'. */
  state: 'speaking' | 'pending' | 'final' | 'failed';
}

export class CaptionTrack {
  private readonly byItem = new Map<string, Caption>();
  /** Insertion order = order of utterances in the session. */
  private readonly order: Caption[] = [];

  /** Applies one server event; returns the caption it changed, or null when it was not about captions. */
  apply(event: ServerEvent): Caption | null {
    switch (event.type) {
      case 'input_audio_buffer.speech_started': {
        const caption = this.get(event.item_id);
        caption.startMs = event.audio_start_ms;
        return caption;
      }
      case 'input_audio_buffer.speech_stopped': {
        const caption = this.get(event.item_id);
        caption.endMs = event.audio_end_ms;
        if (caption.state === 'speaking') caption.state = 'pending';
        return caption;
      }
      case 'conversation.item.input_audio_transcription.delta': {
        const caption = this.get(event.item_id);
        if (caption.state === 'final' || caption.state === 'failed') return null;
        caption.text += event.delta;
        return caption;
      }
      case 'conversation.item.input_audio_transcription.completed': {
        const caption = this.get(event.item_id);
        caption.text = event.transcript.trim();
        caption.state = 'final';
        return caption;
      }
      case 'conversation.item.input_audio_transcription.failed': {
        const caption = this.get(event.item_id);
        caption.state = 'failed';
        return caption;
      }
      default:
        return null;
    }
  }

  /** Every caption in utterance order, including interim ones. */
  all(): readonly Caption[] {
    return this.order;
  }

  /** Final captions with text, in utterance order: what an export contains. */
  finals(): Caption[] {
    return this.order.filter((c) => c.state === 'final' && c.text !== '');
  }

  /** The newest caption still being spoken or transcribed, if any. */
  interim(): Caption | null {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const c = this.order[i];
      if (c.state === 'speaking' || c.state === 'pending') return c;
    }
    return null;
  }

  byId(itemId: string): Caption | undefined {
    return this.byItem.get(itemId);
  }

  private get(itemId: string): Caption {
    let caption = this.byItem.get(itemId);
    if (!caption) {
      caption = { itemId, startMs: null, endMs: null, text: '', state: 'speaking' };
      this.byItem.set(itemId, caption);
      this.order.push(caption);
    }
    return caption;
  }
}
