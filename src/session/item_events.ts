// Item events the session layer derives from what it sends: a user audio item is `done` once its
// transcript is known, and truncation is answered from the item store.
import { EarshotError } from '../errors.ts';
import type { ItemChain } from '../agent/item_chain.ts';
import type { ServerEventPayload, ServerEventPayloadOf } from '../protocol/server_events.ts';

export class ItemEvents {
  /** User audio items whose transcript is pending (their `conversation.item.done` waits for it). */
  private readonly awaitingTranscript = new Map<string, string | null>();

  constructor(
    private readonly items: ItemChain,
    private readonly send: (payload: ServerEventPayload) => void,
    private readonly transcribing: () => boolean,
  ) {}

  /**
   * A user item with audio is `done` once its transcript is known (transcription completed or failed),
   * at once when the session does not transcribe. The item store gets the transcript first, so a
   * conversation.item.retrieve sent on `.completed` (agents-realtime does) sees it.
   */
  observe(payload: ServerEventPayload): void {
    if (payload.type === 'conversation.item.added') {
      const { item } = payload;
      if (item.type !== 'message' || item.role !== 'user') return;
      if (!item.content.some((p) => p.type === 'input_audio' && p.transcript === null)) return;
      if (this.transcribing()) this.awaitingTranscript.set(item.id, payload.previous_item_id);
      else this.send({ type: 'conversation.item.done', previous_item_id: payload.previous_item_id, item });
      return;
    }
    if (
      payload.type !== 'conversation.item.input_audio_transcription.completed' &&
      payload.type !== 'conversation.item.input_audio_transcription.failed'
    )
      return;
    if (!this.awaitingTranscript.has(payload.item_id)) return;
    const previous = this.awaitingTranscript.get(payload.item_id) ?? null;
    this.awaitingTranscript.delete(payload.item_id);
    const item =
      payload.type === 'conversation.item.input_audio_transcription.completed'
        ? this.items.setTranscript(payload.item_id, payload.content_index, payload.transcript)
        : this.items.get(payload.item_id);
    if (item) this.send({ type: 'conversation.item.done', previous_item_id: previous, item });
  }

  /**
   * Truncation cuts an assistant's audio at what was played. Earshot's assistant items are text with no
   * audio, so there is nothing to cut: a valid request is confirmed and the text kept (what the user saw).
   */
  truncate(
    itemId: string,
    contentIndex: number,
    audioEndMs: number,
  ): ServerEventPayloadOf<'conversation.item.truncated'> {
    const item = this.items.get(itemId);
    if (!item)
      throw new EarshotError(
        'E_ITEM_NOT_FOUND',
        `No item ${JSON.stringify(itemId.slice(0, 64))} in the conversation.`,
        { param: 'item_id' },
      );
    if (item.type !== 'message' || item.role !== 'assistant') {
      throw new EarshotError('E_INVALID_EVENT', 'Only assistant message items can be truncated.', { param: 'item_id' });
    }
    if (contentIndex >= Math.max(1, item.content.length)) {
      throw new EarshotError('E_INVALID_EVENT', `Item ${itemId} has no content part ${contentIndex}.`, {
        param: 'content_index',
      });
    }
    return {
      type: 'conversation.item.truncated',
      item_id: itemId,
      content_index: contentIndex,
      audio_end_ms: Math.floor(audioEndMs),
    };
  }
}
