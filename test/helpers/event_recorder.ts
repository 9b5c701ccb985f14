// What every Realtime test client shares, whatever carries the events (WebSocket, WebRTC data channel):
// the log of server events, waiting for one, and the round trip that proves earlier input was handled.

export interface ReceivedEvent {
  type: string;
  event_id: string;
  [key: string]: unknown;
}

/** A log of events and waiting for one: shared by the test clients and the SDK conformance log. */
export class EventWaitList<E extends { type: string }> {
  readonly events: E[] = [];
  private waiters: { predicate: (e: E) => boolean; resolve: (e: E) => void }[] = [];

  constructor(private readonly defaultTimeoutMs = 10_000) {}

  /** Records one event and wakes the waiters it satisfies. */
  protected record(event: E): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => (w.predicate(event) ? (w.resolve(event), false) : true));
  }

  /** Resolves with the first event (already received or future) matching the predicate after `fromIndex`. */
  waitFor(predicate: (e: E) => boolean, timeoutMs = this.defaultTimeoutMs, fromIndex = 0): Promise<E> {
    const existing = this.events.slice(fromIndex).find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for an event; got ${this.events.map((e) => e.type).join(', ')}`)),
        timeoutMs,
      );
      this.waiters.push({
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  ofType(type: string, fromIndex = 0): E[] {
    return this.events.slice(fromIndex).filter((e) => e.type === type);
  }
}

export abstract class EventRecorder extends EventWaitList<ReceivedEvent> {
  abstract send(event: Record<string, unknown>): void;

  /** Sends a marker (a session.update that changes nothing) and waits for its reply: all earlier input has been handled. */
  async roundTrip(): Promise<void> {
    const from = this.events.length;
    this.send({ type: 'session.update', session: {} });
    await this.waitFor((e) => e.type === 'session.updated', 10_000, from);
  }
}
