// Two RxJS operators for the per-frame audio path. Every connection sends ~80 items a second through the
// pipeline (audio chunks and 32 ms VAD windows); with concatMap each one built an inner Observable, its
// subscribers and (for windows) a promise wrapper. At 200 connections that machinery was a quarter of all
// memory allocated on the main thread, and the garbage collector's work grew with it.
import { Observable, type OperatorFunction } from 'rxjs';

/**
 * `concatMap((item) => from(project(item)))` for a synchronous `project`: each item's outputs are emitted
 * at once and in order, with no inner Observable. A throwing `project` errors the stream.
 */
export function expandEach<T, R>(project: (item: T) => readonly R[]): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) =>
      source.subscribe({
        next: (item) => {
          let outputs: readonly R[];
          try {
            outputs = project(item);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          for (const output of outputs) subscriber.next(output);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}

/** One projected item waiting for its turn; a promise's slot is filled in when it settles. */
interface Slot<R> {
  state: 'pending' | 'value' | 'error';
  value?: R;
  error?: unknown;
}

/**
 * `concatMap((item) => project(item))` where `project` returns a value or a promise of one: every item is
 * projected the moment it arrives (so promises run concurrently) and the results are emitted strictly in
 * arrival order, each in a microtask after its turn comes, as concatMap over promises did. A rejection
 * errors the stream when it reaches the head of the queue, after the results before it. The queue has no
 * bound of its own: on the audio path, audio is counted against server.max_pending_audio_ms from intake
 * until the segmenter has processed it (session/audio_intake.ts), which bounds what can wait here.
 */
export function mapOrdered<T, R>(project: (item: T) => R | Promise<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let queue: Slot<R>[] = [];
      let head = 0;
      let sourceDone = false;
      let drainScheduled = false;

      const drain = (): void => {
        drainScheduled = false;
        while (head < queue.length && !subscriber.closed) {
          const slot = queue[head];
          if (slot.state === 'pending') break;
          head++;
          if (slot.state === 'error') {
            subscriber.error(slot.error);
            return;
          }
          subscriber.next(slot.value as R);
        }
        // Emitted slots are dropped once they are half the queue, so a long backlog is not re-copied on
        // every emission and the queue never holds more than twice what is waiting.
        if (head === queue.length) {
          queue = [];
          head = 0;
          if (sourceDone) subscriber.complete();
        } else if (head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
      };
      const scheduleDrain = (): void => {
        if (drainScheduled) return;
        drainScheduled = true;
        queueMicrotask(drain);
      };

      return source.subscribe({
        next: (item) => {
          let result: R | Promise<R>;
          try {
            result = project(item);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (!(result instanceof Promise)) {
            queue.push({ state: 'value', value: result });
            scheduleDrain();
            return;
          }
          const slot: Slot<R> = { state: 'pending' };
          queue.push(slot);
          result.then(
            (value) => {
              slot.state = 'value';
              slot.value = value;
              scheduleDrain();
            },
            (error: unknown) => {
              slot.state = 'error';
              slot.error = error;
              scheduleDrain();
            },
          );
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          scheduleDrain();
        },
      });
    });
}
