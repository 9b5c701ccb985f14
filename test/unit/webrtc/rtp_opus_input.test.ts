import { afterEach, describe, expect, it, vi } from 'vitest';
import { RtpOpusInput, type PacketDecoder } from '../../../src/transport/webrtc/rtp_opus_input.ts';

/** Decodes packet [n] to 320 samples of value n (20 ms), [0xff] fails, conceals with value -1. */
class FakeDecoder implements PacketDecoder {
  freed = false;
  decode(payload: Uint8Array): Float32Array | null {
    if (payload[0] === 0xff) return null;
    return new Float32Array(320).fill(payload[0]);
  }
  conceal(samples16k: number): Float32Array {
    return new Float32Array(samples16k).fill(-1);
  }
  free(): void {
    this.freed = true;
  }
}

function setup(depthPackets = 3) {
  const decoder = new FakeDecoder();
  const chunks: Float32Array[] = [];
  const input = new RtpOpusInput({
    decoder,
    depthPackets,
    maxWaitMs: 80,
    maxConcealMs: 2000,
    onPcm16k: (s) => chunks.push(s),
  });
  const send = (index: number, payload = index % 200, seq0 = 65_530, ts0 = 4_294_967_000) =>
    input.push({
      sequenceNumber: (seq0 + index) & 0xffff,
      timestamp: (ts0 + 960 * index) >>> 0,
      payload: new Uint8Array([payload]),
    });
  /** One value per 20 ms block of output. */
  const blocks = () => {
    const all = chunks.flatMap((c) => Array.from(c));
    expect(all.length % 320).toBe(0);
    return Array.from({ length: all.length / 320 }, (_, i) => all[i * 320]);
  };
  return { decoder, input, send, blocks, chunks };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RtpOpusInput', () => {
  it('decodes in order across sequence and timestamp wrap', () => {
    const { send, blocks, input } = setup();
    for (let i = 0; i < 10; i++) send(i);
    expect(blocks()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(input.stats).toMatchObject({ packets: 10, lost: 0, decodedSamples: 3200, concealedSamples: 0 });
  });

  it('reorders and conceals a lost packet with exactly its duration', () => {
    const { send, blocks, input } = setup();
    for (const i of [0, 1, 3, 2, 4, 6, 7, 8, 9, 10]) send(i); // 2 late, 5 lost
    expect(blocks()).toEqual([0, 1, 2, 3, 4, -1, 6, 7, 8, 9, 10]);
    expect(input.stats).toMatchObject({ lost: 1, reordered: 1, concealedSamples: 320 });
  });

  it('conceals a burst of losses by the timestamp gap', () => {
    const { send, blocks } = setup(1);
    for (const i of [0, 1, 5, 6]) send(i);
    expect(blocks()).toEqual([0, 1, -1, -1, -1, 5, 6]);
  });

  it('fills a timestamp gap without missing packets (DTX) with silence', () => {
    const { input, blocks } = setup();
    input.push({ sequenceNumber: 1, timestamp: 0, payload: new Uint8Array([7]) });
    input.push({ sequenceNumber: 2, timestamp: 960 * 3, payload: new Uint8Array([8]) });
    expect(blocks()).toEqual([7, 0, 0, 8]);
  });

  it('conceals an undecodable packet instead of dropping its time', () => {
    const { send, blocks, input } = setup();
    send(0);
    send(1, 0xff);
    send(2);
    expect(blocks()).toEqual([0, -1, 2]);
    expect(input.stats.decodeErrors).toBe(1);
  });

  it('does not fill an implausible timeline jump (sender restart)', () => {
    const { input, blocks } = setup();
    input.push({ sequenceNumber: 1, timestamp: 0, payload: new Uint8Array([1]) });
    input.push({ sequenceNumber: 2, timestamp: 48_000 * 60, payload: new Uint8Array([2]) });
    expect(blocks()).toEqual([1, 2]);
  });

  it('releases held packets after maxWaitMs when nothing else arrives', () => {
    vi.useFakeTimers();
    const { send, blocks } = setup(5);
    send(0);
    send(2);
    expect(blocks()).toEqual([0]);
    vi.advanceTimersByTime(79);
    expect(blocks()).toEqual([0]);
    vi.advanceTimersByTime(1);
    expect(blocks()).toEqual([0, -1, 2]);
  });

  it('frees the decoder on close and ignores later packets', () => {
    const { send, input, decoder, blocks } = setup();
    send(0);
    input.close();
    send(1);
    expect(decoder.freed).toBe(true);
    expect(blocks()).toEqual([0]);
  });
});
