/** One received RTP packet, as far as audio input cares. */
export interface RtpAudioPacket {
  /** 16-bit RTP sequence number. */
  sequenceNumber: number;
  /** 32-bit RTP timestamp (48 kHz clock for Opus). */
  timestamp: number;
  payload: Uint8Array;
}

/** A packet released in order, with its sequence number extended past 16 bits so gaps are plain subtraction. */
export interface OrderedPacket extends RtpAudioPacket {
  extendedSeq: number;
}

export interface ReorderStats {
  /** Arrived after a later packet but in time to be put back in place. */
  reordered: number;
  /** Arrived after their slot had been released (counted lost) or were duplicates: dropped. */
  late: number;
  duplicates: number;
  /** Times the sequence jumped so far that the buffer restarted its timeline. */
  resyncs: number;
}

/** A jump this large in sequence numbers is a sender restart, not loss (3000 x 20 ms = 1 minute). */
const RESYNC_SEQ_JUMP = 3000;

/**
 * Puts RTP packets back in sequence-number order. Holds at most `depthPackets` packets while waiting for a
 * missing one; when more arrive the missing one is given up on (the caller conceals it). In-order packets
 * pass straight through, so the buffer adds delay only while a packet is actually missing.
 */
export class ReorderBuffer {
  private nextSeq: number | null = null;
  private readonly pending = new Map<number, OrderedPacket>();
  readonly stats: ReorderStats = { reordered: 0, late: 0, duplicates: 0, resyncs: 0 };
  private highestSeq = -Infinity;

  constructor(private readonly depthPackets: number) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Accepts one packet; returns the packets now releasable, in order (possibly with gaps between them). */
  push(packet: RtpAudioPacket): OrderedPacket[] {
    if (this.nextSeq === null) this.nextSeq = packet.sequenceNumber;
    const expected = this.nextSeq;
    // Signed distance in 16-bit sequence space: handles wrap-around at 65535.
    const distance = ((packet.sequenceNumber - (expected & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const extendedSeq = expected + distance;
    if (Math.abs(distance) > RESYNC_SEQ_JUMP) {
      // Sender restarted its sequence: release what we hold and follow the new timeline.
      this.stats.resyncs++;
      const released = this.flush();
      this.nextSeq = extendedSeq;
      this.highestSeq = -Infinity;
      return released.concat(this.accept({ ...packet, extendedSeq }));
    }
    if (extendedSeq < expected) {
      this.stats.late++;
      return [];
    }
    if (this.pending.has(extendedSeq)) {
      this.stats.duplicates++;
      return [];
    }
    if (extendedSeq < this.highestSeq) this.stats.reordered++;
    return this.accept({ ...packet, extendedSeq });
  }

  /** Releases everything held, in order (the wait for a missing packet has timed out, or the call ends). */
  flush(): OrderedPacket[] {
    const released = [...this.pending.values()].sort((a, b) => a.extendedSeq - b.extendedSeq);
    this.pending.clear();
    if (released.length > 0) this.nextSeq = released[released.length - 1].extendedSeq + 1;
    return released;
  }

  private accept(packet: OrderedPacket): OrderedPacket[] {
    this.highestSeq = Math.max(this.highestSeq, packet.extendedSeq);
    this.pending.set(packet.extendedSeq, packet);
    const released: OrderedPacket[] = [];
    this.releaseRun(released);
    while (this.pending.size > this.depthPackets) {
      // Give up on the missing packet(s): skip to the oldest one held.
      this.nextSeq = Math.min(...this.pending.keys());
      this.releaseRun(released);
    }
    return released;
  }

  private releaseRun(into: OrderedPacket[]): void {
    let next = this.nextSeq!;
    for (let packet = this.pending.get(next); packet; packet = this.pending.get(next)) {
      this.pending.delete(next);
      into.push(packet);
      next++;
    }
    this.nextSeq = next;
  }
}
