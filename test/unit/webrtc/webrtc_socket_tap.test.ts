// The benchmark's socket-level arrival times: real UDP sockets on 127.0.0.1, RTP recorded by SSRC with its
// sequence number, RTCP, STUN and DTLS left out, and nothing recorded once the tap is removed.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { tapRtpArrivals } from '../../../src/bench/tts/webrtc_socket_tap.ts';

function rtp(ssrc: number, sequenceNumber: number, payloadType = 96, marker = false): Buffer {
  const packet = Buffer.alloc(40);
  packet[0] = 0x80;
  packet[1] = (marker ? 0x80 : 0) | payloadType;
  packet.writeUInt16BE(sequenceNumber, 2);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function pair(): Promise<{ send(packet: Buffer): Promise<void>; received: () => number }> {
  const sender = createSocket('udp4');
  const receiver = createSocket('udp4');
  sockets.push(sender, receiver);
  let received = 0;
  receiver.on('message', () => received++);
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const { port } = receiver.address();
  return {
    send: (packet) =>
      new Promise((resolve, reject) => sender.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve()))),
    received: () => received,
  };
}

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('tapRtpArrivals', () => {
  it('records RTP packets by SSRC at the socket, and only RTP', async () => {
    const tap = tapRtpArrivals();
    try {
      const { send, received } = await pair();
      const beforeMs = performance.now();
      await send(rtp(0xdead_beef, 7));
      await send(rtp(0xdead_beef, 8, 111, true));
      await send(rtp(42, 1));
      const rtcp = rtp(0xdead_beef, 9);
      rtcp[1] = 200; // a sender report
      await send(rtcp);
      await send(Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0])); // STUN
      await send(Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // DTLS handshake
      await until(() => received() === 6);
      expect([...tap.streams.keys()].sort((a, b) => a - b)).toEqual([42, 0xdead_beef]);
      const stream = tap.streams.get(0xdead_beef)!;
      expect(stream.sequenceNumbers).toEqual([7, 8]);
      expect(stream.atMs[0]).toBeGreaterThanOrEqual(beforeMs);
      expect(stream.atMs[1]).toBeGreaterThanOrEqual(stream.atMs[0]);
      expect(tap.streams.get(42)!.sequenceNumbers).toEqual([1]);
    } finally {
      tap.remove();
    }
  });

  it('records nothing once removed, and the sockets still deliver', async () => {
    const tap = tapRtpArrivals();
    tap.remove();
    const { send, received } = await pair();
    await send(rtp(1, 1));
    await until(() => received() === 1);
    expect(tap.streams.size).toBe(0);
  });
});
