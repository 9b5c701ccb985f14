// Records every server event a client library delivers, and lets a test wait for the ones it expects.
import { EventWaitList } from '../helpers/event_recorder.ts';

export interface LoggedEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export class EventLog extends EventWaitList<LoggedEvent> {
  constructor() {
    super(20_000);
  }

  push(event: LoggedEvent): void {
    this.record(event);
  }

  get length(): number {
    return this.events.length;
  }
}

export function textOf(events: LoggedEvent[], type: string, responseId?: string): string {
  return events
    .filter((e) => e.type === type && (responseId === undefined || e.response_id === responseId))
    .map((e) => e.delta as string)
    .join('');
}
