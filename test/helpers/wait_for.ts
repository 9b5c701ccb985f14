// The one polling helper of the tests: wait until a condition holds, with a bounded time and a message
// that says what was awaited. Polls on real timers (it waits for real sockets, workers and processes).

export interface WaitForOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Between two checks (default 10 ms). */
  intervalMs?: number;
  /** What was awaited, for the timeout error (a function: evaluated at the timeout, e.g. the last state seen). */
  what?: string | (() => string);
}

/** Polls `condition` until it returns a truthy value, which it resolves with; rejects after timeoutMs. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : (options.what ?? 'the condition');
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

/** Like waitFor, but resolves false at the timeout (for an expect() with its own message). */
export async function holdsWithin(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  return waitFor(condition, { timeoutMs }).then(
    () => true,
    () => false,
  );
}
