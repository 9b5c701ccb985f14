// A single-consumer async queue: producers push events as they happen, the consumer iterates them with
// `for await`. Used for streamed generation events (in process and on the host side of the worker).

export interface EventChannel<T> {
  push(event: T): void;
  /** Push a last event (optional) and end the stream. */
  end(last?: T): void;
  fail(error: unknown): void;
  readonly iterable: AsyncIterable<T>;
}

export function eventChannel<T>(onReturn?: () => void): EventChannel<T> {
  const queue: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  async function* iterate(): AsyncGenerator<T, void, void> {
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (failure !== undefined) throw failure.error;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      // The consumer stopped early (break/return): let the producer know.
      if (!ended && failure === undefined) onReturn?.();
    }
  }
  return {
    push(event) {
      if (ended || failure !== undefined) return;
      queue.push(event);
      notify();
    },
    end(last) {
      if (ended || failure !== undefined) return;
      if (last !== undefined) queue.push(last);
      ended = true;
      notify();
    },
    fail(error) {
      if (ended || failure !== undefined) return;
      failure = { error };
      notify();
    },
    iterable: { [Symbol.asyncIterator]: iterate },
  };
}
