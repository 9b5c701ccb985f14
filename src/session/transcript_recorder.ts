// Writes one connection's session into the transcript store by watching the server events it sends: the
// store has its own record types, and this is where session events become them. Each write happens when
// its event goes out, so what a client has been told is committed or transcribed is on disk before the next.
import type { Utterance } from '../pipeline/types.ts';
import type { ServerEvent } from '../protocol/server_events.ts';
import type { ConversationItem, RealtimeResponseObject } from '../protocol/server_items.ts';
import type { SessionObject } from '../protocol/server_session.ts';
import type { TranscriptStore } from '../store/transcript_store.ts';

export interface TranscriptRecorderOptions {
  store: TranscriptStore;
  /** Non-secret id of the API key the session acts for (see keyIdOf). */
  keyId: string;
  nowMs?: () => number;
  /** Called when a write fails (the store has logged it and counted it; serving goes on). */
  onWriteFailed?: () => void;
}

/** Text of a response's output message(s). */
function responseText(response: RealtimeResponseObject): string | null {
  const parts: string[] = [];
  for (const item of response.output) {
    if (item.type !== 'message') continue;
    for (const c of item.content) {
      if (c.type === 'output_text') parts.push(c.text);
      else if (c.type === 'output_audio') parts.push(c.transcript);
    }
  }
  return parts.length > 0 ? parts.join('') : null;
}

type StoreWrites = Pick<
  TranscriptStore,
  | 'startSession'
  | 'endSession'
  | 'commitUtterance'
  | 'setUtteranceText'
  | 'setUtteranceError'
  | 'recordResponse'
  | 'recordToolCall'
  | 'recordToolCallOutput'
>;

export class TranscriptRecorder {
  private sessionId: string | null = null;
  /** Speech bounds seen in speech_started / speech_stopped, until the commit. */
  private readonly bounds = new Map<string, { startMs?: number; endMs?: number }>();
  /** The caption of this session is a translation (audio.input.transcription.translate_to is set). */
  private translating = false;
  /** Last committed user item: the input of the next response. */
  private lastUserItem: string | null = null;
  /** Output items already recorded (by item id): response.done repeats them. */
  private readonly seenItems = new Set<string>();
  private ended = false;
  private readonly nowMs: () => number;

  constructor(private readonly opts: TranscriptRecorderOptions) {
    this.nowMs = opts.nowMs ?? (() => Date.now());
    this.store = TranscriptRecorder.checkedWrites(opts.store, () => opts.onWriteFailed?.());
  }

  /** The store, with every write's failure reported to onWriteFailed. */
  private readonly store: StoreWrites;

  private static checkedWrites(s: TranscriptStore, failed: () => void): StoreWrites {
    const check = (ok: boolean) => {
      if (!ok) failed();
      return ok;
    };
    return {
      startSession: (a) => check(s.startSession(a)),
      endSession: (a, b, c) => check(s.endSession(a, b, c)),
      commitUtterance: (a) => check(s.commitUtterance(a)),
      setUtteranceText: (a, b) => check(s.setUtteranceText(a, b)),
      setUtteranceError: (a, b) => check(s.setUtteranceError(a, b)),
      recordResponse: (a) => check(s.recordResponse(a)),
      recordToolCall: (a) => check(s.recordToolCall(a)),
      recordToolCallOutput: (a, b, c, d) => check(s.recordToolCallOutput(a, b, c, d)),
    };
  }

  get id(): string | null {
    return this.sessionId;
  }

  /** Every outgoing server event passes here (cheap for the ones not recorded: one switch). */
  observe(event: ServerEvent): void {
    const store = this.store;
    switch (event.type) {
      case 'session.created':
        this.sessionId = event.session.id;
        this.noteSession(event.session);
        store.startSession({
          id: event.session.id,
          keyId: this.opts.keyId,
          type: event.session.type,
          model: 'model' in event.session ? event.session.model : null,
        });
        return;
      case 'session.updated':
        this.noteSession(event.session);
        return;
      case 'input_audio_buffer.speech_started':
        this.bounds.set(event.item_id, { startMs: event.audio_start_ms });
        return;
      case 'input_audio_buffer.speech_stopped': {
        const b = this.bounds.get(event.item_id) ?? {};
        b.endMs = event.audio_end_ms;
        this.bounds.set(event.item_id, b);
        return;
      }
      case 'input_audio_buffer.committed': {
        if (!this.sessionId) return;
        const b = this.bounds.get(event.item_id);
        this.bounds.delete(event.item_id);
        this.lastUserItem = event.item_id;
        store.commitUtterance({
          sessionId: this.sessionId,
          itemId: event.item_id,
          startMs: b?.startMs ?? 0,
          endMs: b?.endMs ?? b?.startMs ?? 0,
        });
        return;
      }
      case 'conversation.item.input_audio_transcription.completed':
        store.setUtteranceText(
          event.item_id,
          this.translating ? { translation: event.transcript } : { transcript: event.transcript },
        );
        return;
      case 'conversation.item.input_audio_transcription.failed':
        store.setUtteranceError(event.item_id, { code: event.error.code ?? 'E_ENGINE', message: event.error.message });
        return;
      case 'response.created':
        if (!this.sessionId) return;
        store.recordResponse({
          id: event.response.id,
          sessionId: this.sessionId,
          status: event.response.status,
          inputItemId: this.lastUserItem,
        });
        return;
      case 'response.done':
        this.onResponseDone(event.response);
        this.seenItems.clear();
        return;
      case 'response.output_item.done':
        this.onOutputItem(event.response_id, event.item);
        return;
      case 'conversation.item.added':
      case 'conversation.item.created':
        if (event.item.type === 'function_call_output') this.onToolOutput(event.item.call_id, event.item.output);
        return;
      default:
        return;
    }
  }

  /** The segmenter's own utterance (exact speech bounds and why it ended); called right after its commit. */
  utterance(u: Utterance): void {
    if (!this.sessionId) return;
    this.store.commitUtterance({
      sessionId: this.sessionId,
      itemId: u.itemId,
      startMs: u.speechStartMs,
      endMs: u.speechEndMs,
      endReason: u.endReason,
    });
  }

  /** Marks the session ended (idempotent). */
  end(reason: string): void {
    if (this.ended || !this.sessionId) return;
    this.ended = true;
    this.store.endSession(this.sessionId, reason, this.nowMs());
  }

  private noteSession(session: SessionObject): void {
    this.translating = Boolean(session.audio.input.transcription?.translate_to);
  }

  private onResponseDone(response: RealtimeResponseObject): void {
    if (!this.sessionId) return;
    this.store.recordResponse({
      id: response.id,
      sessionId: this.sessionId,
      status: response.status,
      text: responseText(response),
      usage: response.usage,
      completedAtMs: this.nowMs(),
    });
    for (const item of response.output) this.onOutputItem(response.id, item);
  }

  private onOutputItem(responseId: string, item: ConversationItem): void {
    if (!this.sessionId || this.seenItems.has(item.id)) return;
    if (item.type === 'function_call' && item.status === 'completed') {
      this.seenItems.add(item.id);
      this.store.recordToolCall({
        callId: item.call_id,
        sessionId: this.sessionId,
        responseId,
        name: item.name,
        argumentsJson: item.arguments,
        status: 'in_progress',
      });
    } else if (item.type === 'function_call_output') {
      // A server tool's result, inside the response that called it.
      this.seenItems.add(item.id);
      this.onToolOutput(item.call_id, item.output);
    }
  }

  private onToolOutput(callId: string, output: string): void {
    if (!this.sessionId) return;
    // A client's output for a call the model never made (or of another session) changes nothing.
    this.store.recordToolCallOutput(callId, this.sessionId, output, this.nowMs());
  }
}
