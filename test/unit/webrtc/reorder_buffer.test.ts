import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReorderBuffer, type OrderedPacket } from '../../../src/transport/webrtc/reorder_buffer.ts';

const packet = (seq: number) => ({
  sequenceNumber: seq & 0xffff,
  timestamp: (seq * 960) >>> 0,
  payload: new Uint8Array([seq & 0xff]),
});
const seqs = (released: OrderedPacket[]) => released.map((p) => p.extendedSeq);

describe('ReorderBuffer', () => {
  it('passes in-order packets straight through, across the 16-bit wrap', () => {
    const buffer = new ReorderBuffer(3);
    const out: number[] = [];
    for (let seq = 65_530; seq < 65_545; seq++) out.push(...seqs(buffer.push(packet(seq))));
    expect(out).toEqual(Array.from({ length: 15 }, (_, i) => 65_530 + i));
    expect(buffer.pendingCount).toBe(0);
  });

  it('holds packets behind a gap and puts a late one back in place', () => {
    const buffer = new ReorderBuffer(3);
    expect(seqs(buffer.push(packet(10)))).toEqual([10]);
    expect(seqs(buffer.push(packet(12)))).toEqual([]);
    expect(seqs(buffer.push(packet(13)))).toEqual([]);
    expect(seqs(buffer.push(packet(11)))).toEqual([11, 12, 13]);
    expect(buffer.stats.reordered).toBe(1);
  });

  it('gives up on a missing packet once more than depth packets wait, and drops it if it comes later', () => {
    const buffer = new ReorderBuffer(2);
    buffer.push(packet(1));
    expect(seqs(buffer.push(packet(3)))).toEqual([]);
    expect(seqs(buffer.push(packet(4)))).toEqual([]);
    expect(seqs(buffer.push(packet(5)))).toEqual([3, 4, 5]);
    expect(seqs(buffer.push(packet(2)))).toEqual([]);
    expect(buffer.stats.late).toBe(1);
  });

  it('drops duplicates and releases everything on flush', () => {
    const buffer = new ReorderBuffer(5);
    buffer.push(packet(1));
    buffer.push(packet(3));
    buffer.push(packet(3));
    expect(buffer.stats.duplicates).toBe(1);
    expect(seqs(buffer.flush())).toEqual([3]);
    expect(seqs(buffer.push(packet(4)))).toEqual([4]);
  });

  it('follows a sender that restarts its sequence numbers', () => {
    const buffer = new ReorderBuffer(3);
    buffer.push(packet(100));
    const out = seqs(buffer.push(packet(30_000)));
    expect(out).toHaveLength(1);
    expect(buffer.stats.resyncs).toBe(1);
    expect(seqs(buffer.push(packet(30_001)))).toEqual([out[0] + 1]);
  });

  it('property: any loss and any reordering within the depth yields every received packet once, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65_535 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 200 }),
        (start, depth, plan) => {
          // Packet i is kept unless plan says drop (first kept always), and is displaced by < depth slots.
          const kept = plan
            .map(([drop], i) => ({ i, drop: i > 0 && drop }))
            .filter((p) => !p.drop)
            .map((p) => p.i);
          const order = kept
            .map((i, k) => ({ i, key: k + (k === 0 ? 0 : plan[i][1] % depth) + 0.5 * (k === 0 ? -1 : 0) }))
            .sort((a, b) => a.key - b.key)
            .map((p) => p.i);
          const buffer = new ReorderBuffer(depth);
          const out: number[] = [];
          for (const i of order) out.push(...seqs(buffer.push(packet(start + i))));
          out.push(...seqs(buffer.flush()));
          expect(out).toEqual(kept.map((i) => start + i));
        },
      ),
      { numRuns: 300 },
    );
  });
});
