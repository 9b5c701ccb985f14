import { beforeAll, describe, expect, it } from 'vitest';
import { OpusPacketDecoder, opusPacketDurationTicks } from '../../../src/transport/webrtc/opus_packet_decoder.ts';
import { CARD_CLIPS, loadClip } from '../../helpers/speech_fixtures.ts';
import { encodeOpusPackets } from '../../helpers/webrtc_opus_fixtures.ts';

// libopus (WebAssembly) on packets Chromium's encoder produced: 16 kHz output and exact-length concealment.

let packets: Uint8Array[];

beforeAll(async () => {
  packets = await encodeOpusPackets(loadClip(CARD_CLIPS[0]));
}, 60_000);

const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / Math.max(1, x.length));

describe('OpusPacketDecoder', () => {
  it('decodes each 20 ms packet to 320 samples at 16 kHz and reads durations from the TOC', async () => {
    const decoder = await OpusPacketDecoder.create();
    try {
      for (const packet of packets) {
        expect(opusPacketDurationTicks(packet)).toBe(960);
        expect(decoder.decode(packet)?.length).toBe(320);
      }
    } finally {
      decoder.free();
    }
  });

  it('conceals exactly the requested length: libopus PLC continuing the speech, then silence', async () => {
    const decoder = await OpusPacketDecoder.create();
    try {
      expect(decoder.conceal(320)).toEqual(new Float32Array(320)); // nothing decoded yet: silence
      // Find a loud packet, decode up to it, then conceal what follows.
      const decoded = packets.map((p) => decoder.decode(p)!);
      const loud = decoded.findIndex((d) => rms(d) > 0.05);
      expect(loud).toBeGreaterThan(0);
      const fresh = await OpusPacketDecoder.create();
      for (let i = 0; i <= loud; i++) fresh.decode(packets[i]);
      for (const samples of [320, 640, 1000, 4000]) expect(fresh.conceal(samples).length).toBe(samples);
      for (let i = 0; i <= loud; i++) fresh.decode(packets[i]);
      const concealed = fresh.conceal(320 * 10);
      expect(rms(concealed.subarray(0, 320))).toBeGreaterThan(0.005); // PLC extrapolates, not silence
      expect(rms(concealed.subarray(320 * 8))).toBe(0); // after 120 ms: silence
      // And decoding carries on normally after concealment.
      expect(fresh.decode(packets[loud + 1])?.length).toBe(320);
      fresh.free();
    } finally {
      decoder.free();
    }
  });

  it('returns null for garbage instead of throwing, and nothing after free', async () => {
    const decoder = await OpusPacketDecoder.create();
    const originalError = console.error;
    console.error = () => undefined; // the wasm wrapper logs libopus errors itself
    try {
      expect(decoder.decode(new Uint8Array([0x03, 0xff]))).toBeNull();
      expect(decoder.decode(new Uint8Array(0))).toBeNull();
    } finally {
      console.error = originalError;
    }
    decoder.free();
    expect(decoder.decode(packets[0])).toBeNull();
  });
});
