// Outbound events of one session: the connection's own transport plus any sideband control connections
// (`?call_id=`), each in its own dialect.
import { toBetaServerEvent } from '../protocol/beta_dialect.ts';
import { errorEvent, type ServerEvent } from '../protocol/server_events.ts';
import type { ConnectionTransport } from './connection_types.ts';
import type { Dialect } from './session_support.ts';

type EventSink = Pick<ConnectionTransport, 'send'>;

export interface SidebandHandler {
  handleText(text: string): void;
  handleBinary(bytes: Uint8Array): void;
  dispose(): void;
}

export class EventFanout {
  private readonly sidebands = new Set<{ transport: EventSink; dialect: Dialect }>();

  constructor(
    private readonly transport: EventSink,
    private readonly dialect: Dialect,
  ) {}

  emit(event: ServerEvent): void {
    emitIn(this.dialect, this.transport, event);
    for (const sideband of this.sidebands) emitIn(sideband.dialect, sideband.transport, event);
  }

  /** Adds a sideband: it receives every event from now on; its client events go to `handleText`. */
  attach(transport: EventSink, dialect: Dialect, handleText: (text: string) => void): SidebandHandler {
    const sideband = { transport, dialect };
    this.sidebands.add(sideband);
    return {
      handleText,
      handleBinary: () =>
        emitIn(
          dialect,
          transport,
          errorEvent('E_BINARY_NOT_ALLOWED', 'A sideband connection carries events only; the call carries the audio.'),
        ),
      dispose: () => this.sidebands.delete(sideband),
    };
  }
}

/** Sends a GA event in the transport's dialect (beta renames, or drops events the beta API lacks). */
function emitIn(dialect: Dialect, transport: EventSink, event: ServerEvent): void {
  if (dialect === 'ga') return transport.send(event);
  const beta = toBetaServerEvent(event);
  if (beta) transport.send(beta as unknown as ServerEvent);
}
