import { concatMap, Observable, type OperatorFunction } from 'rxjs';

/**
 * Runs one connection's turn jobs strictly in order (one engine session, one turn at a time). Each job
 * gets an AbortSignal: unsubscribing (the connection's teardown) aborts the running job; this is the one
 * bridge between RxJS cancellation and the engine's signal. A failing job errors the stream, so handlers
 * report their own failures as events and resolve.
 */
export function runTurns<J, R>(handle: (job: J, signal: AbortSignal) => Promise<R>): OperatorFunction<J, R> {
  return (jobs$) =>
    jobs$.pipe(
      concatMap(
        (job) =>
          new Observable<R>((subscriber) => {
            const controller = new AbortController();
            handle(job, controller.signal).then(
              (result) => {
                subscriber.next(result);
                subscriber.complete();
              },
              (err: unknown) => subscriber.error(err),
            );
            return () => controller.abort();
          }),
      ),
    );
}
