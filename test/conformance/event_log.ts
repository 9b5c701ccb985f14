// Records every server event a client library delivers, and lets a test wait for the ones it expects.

export interface LoggedEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export class EventLog {
  readonly events: LoggedEvent[] = [];
  private waiters: { predicate: (e: LoggedEvent) => boolean; resolve: (e: LoggedEvent) => void }[] = [];

  push(event: LoggedEvent): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => (w.predicate(event) ? (w.resolve(event), false) : true));
  }

  /** The first event (already received, from `fromIndex`, or future) matching the predicate. */
  waitFor(predicate: (e: LoggedEvent) => boolean, timeoutMs = 20_000, fromIndex = 0): Promise<LoggedEvent> {
    const existing = this.events.slice(fromIndex).find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; events so far: ${this.events.map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  ofType(type: string, fromIndex = 0): LoggedEvent[] {
    return this.events.slice(fromIndex).filter((e) => e.type === type);
  }

  get length(): number {
    return this.events.length;
  }
}

export function textOf(events: LoggedEvent[], type: string, responseId?: string): string {
  return events.filter((e) => e.type === type && (responseId === undefined || e.response_id === responseId)).map((e) => e.delta as string).join('');
}
