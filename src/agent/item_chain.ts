// The items of one connection's conversation, in order: `previous_item_id` for every new item, and the
// store behind conversation.item.retrieve / .delete / .truncate. Items hold text only (audio is never
// kept), so a long call costs little memory. Out-of-band response items are never added.
import type { ConversationItem } from '../protocol/server_items.ts';

export class ItemChain {
  private readonly order: string[] = [];
  private readonly items = new Map<string, ConversationItem | null>();

  /** Appends `id` (with its item when known) and returns the id before it (null when it is first). */
  append(id: string, item: ConversationItem | null = null): string | null {
    const previous = this.last;
    if (this.items.has(id)) this.order.splice(this.order.indexOf(id), 1);
    this.order.push(id);
    this.items.set(id, item);
    return previous;
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
    this.order.splice(this.order.indexOf(id), 1);
    return true;
  }

  /** Fills the transcript of a user audio part once captioning has produced it. */
  setTranscript(id: string, contentIndex: number, transcript: string): ConversationItem | null {
    const item = this.items.get(id);
    if (!item || item.type !== 'message') return null;
    const part = item.content[contentIndex];
    if (part?.type !== 'input_audio') return null;
    const updated: ConversationItem = { ...item, content: item.content.map((p, i) => (i === contentIndex ? { ...part, transcript } : p)) };
    this.items.set(id, updated);
    return updated;
  }

  get last(): string | null {
    return this.order.at(-1) ?? null;
  }

  get size(): number {
    return this.order.length;
  }
}
