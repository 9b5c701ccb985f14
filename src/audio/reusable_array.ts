// A typed array reused from call to call on a hot path, so a steady stream of same-sized chunks does not
// allocate an ArrayBuffer per chunk. (Every ArrayBuffer counts as external memory in V8, and external
// growth, not heap growth, is what starts full garbage collections: at 200 streams, two fresh buffers
// per audio message were most of the main thread's external allocation.)

type TypedArrayOf<T> = T extends Float32Array ? Float32Array : Uint8Array;

export class ReusableArray<T extends Float32Array | Uint8Array> {
  private buffer: T;

  constructor(private readonly create: (length: number) => T) {
    this.buffer = create(0);
  }

  /** A view of exactly `length` elements, valid until the next call (its contents are not cleared). */
  take(length: number): TypedArrayOf<T> {
    if (length > this.buffer.length) this.buffer = this.create(Math.max(length, 2 * this.buffer.length));
    return this.buffer.subarray(0, length) as TypedArrayOf<T>;
  }
}
