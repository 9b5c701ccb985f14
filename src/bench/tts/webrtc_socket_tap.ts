// Arrival times of RTP packets taken at the UDP socket, before werift decrypts (SRTP) and depacketizes
// them. With 20 werift peers in one Node process, their receive work (SRTP, RTCP, jitter bookkeeping)
// delays every later JavaScript callback; a browser's native stack has no such shared queue. The time of
// the socket's 'message' event is the closest to the wire JavaScript can see: it still waits for the
// peers' event loop to poll, but not for werift's processing of the packets before it.
import { Socket } from 'node:dgram';

/** RTP packets of one stream (one SSRC, one call's audio) as they reached the socket. */
export interface TappedStream {
  atMs: number[];
  sequenceNumbers: number[];
}

const RTP_VERSION = 2;
/** RTCP packet types 192-223 share the RTP port (RFC 5761); their second byte falls in this range. */
const RTCP_TYPE_MIN = 192;
const RTCP_TYPE_MAX = 223;
const RTP_HEADER_BYTES = 12;

/**
 * Records every RTP packet (not RTCP, STUN or DTLS) that any UDP socket of this process receives from now
 * on, by SSRC: the peers receive one audio stream per call and nothing else over RTP. The payload type is
 * not checked: werift rewrites it to the one the call negotiated. SRTP leaves the RTP header in clear, so
 * sequence number and SSRC are readable. Returns the streams (filled as packets arrive) and a function
 * that removes the tap.
 */
export function tapRtpArrivals(): { streams: Map<number, TappedStream>; remove(): void } {
  const streams = new Map<number, TappedStream>();
  const originalEmit = Socket.prototype.emit;
  Socket.prototype.emit = function tappedEmit(this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message') record(streams, args[0] as Buffer, performance.now());
    return Reflect.apply(originalEmit, this, [event, ...args]) as boolean;
  } as typeof originalEmit;
  return {
    streams,
    remove: () => {
      Socket.prototype.emit = originalEmit;
    },
  };
}

function record(streams: Map<number, TappedStream>, packet: Buffer, atMs: number): void {
  if (packet.length < RTP_HEADER_BYTES || packet[0] >> 6 !== RTP_VERSION) return;
  if (packet[1] >= RTCP_TYPE_MIN && packet[1] <= RTCP_TYPE_MAX) return;
  const ssrc = packet.readUInt32BE(8);
  let stream = streams.get(ssrc);
  if (!stream) {
    stream = { atMs: [], sequenceNumbers: [] };
    streams.set(ssrc, stream);
  }
  stream.atMs.push(atMs);
  stream.sequenceNumbers.push(packet.readUInt16BE(2));
}
