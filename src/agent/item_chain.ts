/** The order of items in one connection's conversation, for `previous_item_id`. */
export class ItemChain {
  private lastId: string | null = null;

  /** Appends `id` and returns the id before it (null when it is first). */
  append(id: string): string | null {
    const previous = this.lastId;
    this.lastId = id;
    return previous;
  }

  get last(): string | null {
    return this.lastId;
  }
}
