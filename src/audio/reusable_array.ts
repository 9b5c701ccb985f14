// A typed array reused from call to call on a hot path, so a steady stream of same-sized chunks does not
// allocate an ArrayBuffer per chunk. (Every ArrayBuffer counts as external memory in V8, and external
// growth, not heap growth, is what starts full garbage collections: at 200 streams, two fresh buffers
// per audio message were most of the main thread's external allocation.)

type TypedArrayOf<T> = T extends Float32Array ? Float32Array : Uint8Array;

/**
 * The largest array kept for reuse, in elements. Live audio comes in chunks of a few thousand samples; a
 * rare large message (a whole recording in one append, up to server.max_message_bytes) gets a fresh array
 * that is not kept, so one such message does not pin megabytes for the rest of the connection.
 */
export const MAX_REUSED_ELEMENTS = 65_536;

export class ReusableArray<T extends Float32Array | Uint8Array> {
  private buffer: T;

  constructor(private readonly create: (length: number) => T) {
    this.buffer = create(0);
  }

  /** A view of exactly `length` elements, valid until the next call (its contents are not cleared). */
  take(length: number): TypedArrayOf<T> {
    if (length > MAX_REUSED_ELEMENTS) return this.create(length) as TypedArrayOf<T>;
    if (length > this.buffer.length)
      this.buffer = this.create(Math.min(MAX_REUSED_ELEMENTS, Math.max(length, 2 * this.buffer.length)));
    return this.buffer.subarray(0, length) as TypedArrayOf<T>;
  }

  /** Elements held for reuse (for tests of the bound). */
  get retainedLength(): number {
    return this.buffer.length;
  }
}
