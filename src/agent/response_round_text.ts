// The assistant text of one generation round: what the model wrote (`full`, markup included), what the
// client was told (`said`, markup held back by the filter) and the message item that carries it, opened
// at the first visible delta and closed once.
import { newItemId } from '../protocol/ids.ts';
import type { ConversationItem } from '../protocol/server_items.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import { assistantMessage } from './response_events.ts';
import { SpokenAnswer, type AnswerSpeech } from './spoken_answer.ts';
import type { SpokenRecord } from './spoken_record.ts';
import { ToolCallTextFilter, type ParsedAnswer } from './tool_call_parser.ts';

/** Where a round's items go: the response's output list and the conversation. */
export interface OutputItems {
  readonly responseId: string;
  /** How the response speaks (null: text); aborting `signal` stops the speech at once. */
  readonly speech: AnswerSpeech | null;
  readonly signal: AbortSignal;
  /** Remembers a spoken message's audio (for conversation.item.truncate). */
  spoken(itemId: string, record: SpokenRecord): void;
  emit(payload: ServerEventPayload): void;
  addItem(item: ConversationItem): number;
  finishItem(outputIndex: number, item: ConversationItem): void;
}

export class RoundText {
  private readonly filter = new ToolCallTextFilter();
  /** The generated text with the prefix, as the model's context holds it. */
  full: string;
  /** The text the client was sent. */
  said = '';
  private item: { itemId: string; outputIndex: number } | null = null;
  /** The spoken form of the message (output_modalities ["audio"]). */
  private voice: SpokenAnswer | null = null;

  constructor(
    private readonly out: OutputItems,
    prefix: string,
  ) {
    this.full = prefix;
    // The prefix opens call markup, so the filter holds it back like generated markup.
    this.say(this.filter.push(prefix));
  }

  /** The message item's id, once a delta was sent. */
  get itemId(): string | null {
    return this.item?.itemId ?? null;
  }

  push(delta: string): void {
    this.full += delta;
    this.say(this.filter.push(delta));
  }

  /** Sends what the filter still held once the answer is parsed (unreadable calls shown as text). */
  finish(parsed: ParsedAnswer): void {
    this.say(this.filter.finish(parsed));
  }

  /** Closes the message; a spoken one once its audio is out (or stopped by a cancel). */
  async close(itemStatus: 'completed' | 'incomplete'): Promise<void> {
    const item = this.item;
    if (!item) return;
    const ref = {
      response_id: this.out.responseId,
      item_id: item.itemId,
      output_index: item.outputIndex,
      content_index: 0,
    };
    if (this.voice) {
      const record = await this.voice.finish();
      this.out.spoken(item.itemId, record);
      this.out.finishItem(
        item.outputIndex,
        assistantMessage(item.itemId, this.said, this.out.signal.aborted ? 'incomplete' : itemStatus, 'audio'),
      );
      return;
    }
    this.out.emit({ type: 'response.output_text.done', ...ref, text: this.said });
    this.out.emit({ type: 'response.content_part.done', ...ref, part: { type: 'text', text: this.said } });
    this.out.finishItem(item.outputIndex, assistantMessage(item.itemId, this.said, itemStatus));
  }

  private say(delta: string): void {
    if (delta === '') return;
    const item = this.item ?? this.open();
    this.said += delta;
    if (this.voice) return this.voice.text(delta);
    this.out.emit({
      type: 'response.output_text.delta',
      response_id: this.out.responseId,
      item_id: item.itemId,
      output_index: item.outputIndex,
      content_index: 0,
      delta,
    });
  }

  private open(): { itemId: string; outputIndex: number } {
    const itemId = newItemId();
    const item = { itemId, outputIndex: this.out.addItem(assistantMessage(itemId, null, 'in_progress')) };
    this.item = item;
    const ref = { response_id: this.out.responseId, item_id: itemId, output_index: item.outputIndex, content_index: 0 };
    if (this.out.speech)
      this.voice = new SpokenAnswer(this.out.speech, ref, (payload) => this.out.emit(payload), this.out.signal);
    else this.out.emit({ type: 'response.content_part.added', ...ref, part: { type: 'text', text: '' } });
    return item;
  }
}
