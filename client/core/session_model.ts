// Everything a client shows about one session, fed one server event at a time: captions, the
// conversation, latency readings, utterance counts and the last error. The page and `earshot stream`
// both drive their output from this.
import type { ServerEvent } from '../../src/protocol/server_events.ts';
import type { SessionObject } from '../../src/protocol/server_session.ts';
import { CaptionTrack, type Caption } from './caption_track.ts';
import { ConversationLog, type ConversationEntry } from './conversation_log.ts';
import { LatencyMeter, type LatencySample } from './latency_meter.ts';

export interface ModelChange {
  caption: Caption | null;
  entries: ConversationEntry[];
  latency: LatencySample | null;
  session: boolean;
  error: boolean;
  speech: boolean;
}

export class SessionModel {
  readonly captions = new CaptionTrack();
  readonly conversation = new ConversationLog();
  readonly latency: LatencyMeter;
  session: SessionObject | null = null;
  /** Utterances the server committed (input_audio_buffer.committed). */
  committedItems: string[] = [];
  speaking = false;
  lastError: { code: string; message: string } | null = null;
  eventCount = 0;
  /** Responses created and not yet done. */
  private readonly openResponses = new Set<string>();

  constructor(nowMs: () => number) {
    this.latency = new LatencyMeter(nowMs);
  }

  apply(event: ServerEvent): ModelChange {
    this.eventCount++;
    const change: ModelChange = {
      caption: null,
      entries: [],
      latency: null,
      session: false,
      error: false,
      speech: false,
    };
    switch (event.type) {
      case 'session.created':
      case 'session.updated':
        this.session = event.session;
        change.session = true;
        break;
      case 'input_audio_buffer.speech_started':
        this.speaking = true;
        change.speech = true;
        break;
      case 'input_audio_buffer.speech_stopped':
        this.speaking = false;
        change.speech = true;
        break;
      case 'input_audio_buffer.committed':
        this.committedItems.push(event.item_id);
        change.speech = true;
        break;
      case 'response.created':
        this.openResponses.add(event.response.id);
        break;
      case 'response.done':
        this.openResponses.delete(event.response.id);
        break;
      case 'error':
        this.lastError = { code: event.error.code, message: event.error.message };
        change.error = true;
        break;
      default:
        break;
    }
    change.caption = this.captions.apply(event);
    change.entries = this.conversation.apply(event);
    change.latency = this.latency.apply(event);
    return change;
  }

  /**
   * True while the server still owes text: a response in flight, or an utterance whose transcript has not
   * come. A session that transcribes answers every utterance with a transcript or a failure, so its
   * pending captions count before their first delta (which can take seconds on a busy engine); without
   * transcription only a caption that has started streaming counts.
   */
  get busy(): boolean {
    if (this.openResponses.size > 0) return true;
    const transcribes = (this.session?.audio?.input?.transcription ?? null) !== null;
    return this.captions.all().some((c) => c.state === 'pending' && (transcribes || c.text !== ''));
  }
}
