// The items of one connection's conversation, in order: `previous_item_id` for every new item, and the
// store behind conversation.item.retrieve / .delete / .truncate. Items hold text only (audio is never
// kept), so a long call costs little memory. Out-of-band response items are never added.
// Committed audio is appended when the pipeline commits it; items made by turns (a client's item, a
// response's output) are inserted after the item they follow in the model's context, which may lie
// before audio committed meanwhile: the order here is always the order the model sees.
import type { ConversationItem } from '../protocol/server_items.ts';
import type { SpokenRecord } from './spoken_record.ts';

export class ItemChain {
  private readonly order: string[] = [];
  private readonly items = new Map<string, ConversationItem | null>();
  /** Spoken assistant messages: their audio length and pieces, for truncation (as small as their text). */
  private readonly spoken = new Map<string, SpokenRecord>();

  /** Appends `id` (with its item when known) and returns the id before it (null when it is first). */
  append(id: string, item: ConversationItem | null = null): string | null {
    const previous = this.last;
    if (this.items.has(id)) this.order.splice(this.order.indexOf(id), 1);
    this.order.push(id);
    this.items.set(id, item);
    return previous;
  }

  /**
   * Inserts `id` right after `after` (null: first), or appends it when `after` is unknown. Returns the id
   * before it, its previous_item_id.
   */
  insertAfter(after: string | null, id: string, item: ConversationItem | null = null): string | null {
    if (this.items.has(id)) this.order.splice(this.order.indexOf(id), 1);
    const at = after === null ? 0 : this.order.indexOf(after) + 1;
    if (after !== null && at === 0) this.order.push(id);
    else this.order.splice(at, 0, id);
    this.items.set(id, item);
    return this.previousOf(id);
  }

  /** The id before `id` (null when first or unknown). */
  previousOf(id: string): string | null {
    const at = this.order.indexOf(id);
    return at > 0 ? this.order[at - 1] : null;
  }

  /** Ids in conversation order. */
  ids(): readonly string[] {
    return this.order;
  }

  /** Whether some function_call_output already answers `callId`. */
  isAnswered(callId: string): boolean {
    for (const item of this.items.values())
      if (item?.type === 'function_call_output' && item.call_id === callId) return true;
    return false;
  }

  /** Replaces a known item (its final state); unknown ids are ignored. */
  put(item: ConversationItem): void {
    if (this.items.has(item.id)) this.items.set(item.id, item);
  }

  get(id: string): ConversationItem | null | undefined {
    return this.items.get(id);
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  remove(id: string): boolean {
    if (!this.items.delete(id)) return false;
    this.spoken.delete(id);
    this.order.splice(this.order.indexOf(id), 1);
    return true;
  }

  /** Fills the transcript of a user audio part once captioning has produced it. */
  setTranscript(id: string, contentIndex: number, transcript: string): ConversationItem | null {
    const item = this.items.get(id);
    if (item?.type !== 'message') return null;
    const part = item.content[contentIndex];
    if (part?.type !== 'input_audio') return null;
    const updated: ConversationItem = {
      ...item,
      content: item.content.map((p, i) => (i === contentIndex ? { ...part, transcript } : p)),
    };
    this.items.set(id, updated);
    return updated;
  }

  setSpoken(id: string, record: SpokenRecord): void {
    if (this.items.has(id)) this.spoken.set(id, record);
  }

  spokenOf(id: string): SpokenRecord | undefined {
    return this.spoken.get(id);
  }

  get last(): string | null {
    return this.order.at(-1) ?? null;
  }

  get size(): number {
    return this.order.length;
  }
}
