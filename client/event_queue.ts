// An async-iterable queue of server events for one consumer. Bounded: a consumer that stops reading
// while the server keeps talking gets an error instead of unbounded memory growth.
import { EarshotError } from '../src/errors.ts';

/** About 10 minutes of a busy session's events (deltas at ~20/s); far above any live consumer's lag. */
export const MAX_QUEUED_EVENTS = 10_000;

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private ended = false;
  private failure: unknown = null;

  get isEnded(): boolean {
    return this.ended;
  }

  constructor(private readonly maxItems = MAX_QUEUED_EVENTS) {}

  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve({ value: item, done: false });
    if (this.items.length >= this.maxItems) {
      this.fail(
        new EarshotError('E_INTERNAL', `The event consumer fell ${this.maxItems} events behind; iteration stopped.`),
      );
      return;
    }
    this.items.push(item);
  }

  end(): void {
    this.ended = true;
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  fail(error: unknown): void {
    this.failure = error;
    this.ended = true;
    for (const w of this.waiting.splice(0)) w.reject(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
