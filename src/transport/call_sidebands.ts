// WebSocket sidebands on WebRTC calls (`/v1/realtime?call_id=`): who may open one, and their lifetime.
// A call belongs to the key that created it (an ephemeral key's calls belong to the key that minted it);
// any other key is answered exactly as for a call that does not exist. Each sideband is a session for
// admission: it takes a slot (global and per key), has the same idle and duration limits, and is closed
// when its call ends.
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { encodeServerEvent } from '../protocol/codec.ts';
import { errorEvent, serverEvent, type ServerEvent } from '../protocol/server_events.ts';
import type { AdmissionController, SessionTicket } from './admission.ts';
import type { AuthIdentity } from './auth.ts';
import type { SocketHandler, SocketPeer } from './ws_server.ts';
import { CLOSE_CALL_ENDED, CLOSE_UNKNOWN_CALL } from './close_codes.ts';

export { CLOSE_CALL_ENDED, CLOSE_UNKNOWN_CALL };

/** The call's session as a sideband sees it: events out (in the sideband's dialect D), client events in. */
export interface SidebandTarget<D> {
  attachSideband(transport: { send(event: ServerEvent): void }, dialect: D): SocketHandler;
}

interface LiveCall<D> {
  ownerKeyId: string;
  target: SidebandTarget<D>;
  sidebands: Set<OpenSideband>;
}

interface OpenSideband {
  peer: SocketPeer;
  close(code: number, reason: string): void;
}

const NO_OP: SocketHandler = { handleText() {}, handleBinary() {}, dispose() {} };

export class CallSidebands<D> {
  private readonly calls = new Map<string, LiveCall<D>>();

  constructor(private readonly opts: { admission: AdmissionController; log: Logger }) {}

  /** A call's session has started: sidebands of `ownerKeyId` may attach to it from now on. */
  register(callId: string, ownerKeyId: string, target: SidebandTarget<D>): void {
    this.calls.set(callId, { ownerKeyId, target, sidebands: new Set() });
  }

  /** The owner of a live call, for hang-ups; null when there is no such call. */
  ownerOf(callId: string): string | null {
    return this.calls.get(callId)?.ownerKeyId ?? null;
  }

  /** Open sidebands over all calls. */
  get size(): number {
    let n = 0;
    for (const call of this.calls.values()) n += call.sidebands.size;
    return n;
  }

  /** The call has ended: every sideband on it is closed with CLOSE_CALL_ENDED. */
  end(callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    for (const sideband of [...call.sidebands]) sideband.close(CLOSE_CALL_ENDED, 'the call has ended');
  }

  /**
   * Opens a sideband for `identity` on `callId`, or answers as for an unknown call (E_NOT_FOUND, close
   * 1008) when the call is missing or belongs to another key. Capacity refusals get the admission's code.
   */
  open(peer: SocketPeer, identity: AuthIdentity, callId: string, dialect: D): SocketHandler {
    const call = this.calls.get(callId);
    if (!call || call.ownerKeyId !== identity.keyId) {
      return refuse(
        peer,
        'E_NOT_FOUND',
        `No active WebRTC call ${callId.slice(0, 64)}.`,
        CLOSE_UNKNOWN_CALL,
        'unknown call_id',
      );
    }
    const sideband: OpenSideband = {
      peer,
      close: (code, reason) => {
        call.sidebands.delete(sideband);
        peer.close(code, reason);
      },
    };
    const admitted = this.opts.admission.admit(identity.keyId, (expiry) => {
      peer.sendText(encodeServerEvent(errorEvent(expiry.code, expiry.message)));
      sideband.close(expiry.closeCode, expiry.message.slice(0, 120));
    });
    if (!admitted.ok) {
      peer.sendText(encodeServerEvent(serverEvent(this.opts.admission.rateLimitsEvent(identity.keyId))));
      return refuse(peer, admitted.code, admitted.message, admitted.closeCode, admitted.message.slice(0, 120));
    }
    const held: SessionTicket = admitted.ticket;
    call.sidebands.add(sideband);
    const handler = call.target.attachSideband({ send: (event) => peer.sendText(encodeServerEvent(event)) }, dialect);
    return {
      handleText: (text) => {
        held.touch();
        handler.handleText(text);
      },
      handleBinary: (bytes) => {
        held.touch();
        handler.handleBinary(bytes);
      },
      dispose: () => {
        call.sidebands.delete(sideband);
        handler.dispose();
        held.release();
      },
    };
  }
}

function refuse(peer: SocketPeer, code: ErrorCode, message: string, closeCode: number, reason: string): SocketHandler {
  peer.sendText(
    encodeServerEvent(errorEvent(code, message, code === 'E_NOT_FOUND' ? { param: 'call_id' } : undefined)),
  );
  peer.close(closeCode, reason);
  return NO_OP;
}
