// What every Realtime test client shares, whatever carries the events (WebSocket, WebRTC data channel):
// the log of server events, waiting for one, and the round trip that proves earlier input was handled.

export interface ReceivedEvent {
  type: string;
  event_id: string;
  [key: string]: unknown;
}

export abstract class EventRecorder {
  readonly events: ReceivedEvent[] = [];
  private waiters: { predicate: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];

  abstract send(event: Record<string, unknown>): void;

  /** Records one server event and wakes the waiters it satisfies. */
  protected record(event: ReceivedEvent): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => (w.predicate(event) ? (w.resolve(event), false) : true));
  }

  /** Resolves with the first event (already received or future) matching the predicate after `fromIndex`. */
  waitFor(predicate: (e: ReceivedEvent) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<ReceivedEvent> {
    const existing = this.events.slice(fromIndex).find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; got ${this.events.map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Sends a marker (a session.update that changes nothing) and waits for its reply: all earlier input has been handled. */
  async roundTrip(): Promise<void> {
    const from = this.events.length;
    this.send({ type: 'session.update', session: {} });
    await this.waitFor((e) => e.type === 'session.updated', 10_000, from);
  }

  ofType(type: string): ReceivedEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}
