import { OpusDecoder } from 'opus-decoder';
import { describe, expect, it, vi } from 'vitest';
import type { RtpPacket } from 'werift';
import type { Logger } from '../../../src/observability/logger.ts';
import type { AudioOutputEvent } from '../../../src/transport/audio_output.ts';
import { defaultWebRtcConfig } from '../../../src/config/webrtc_schema.ts';
import { WebRtcAudioOutput } from '../../../src/transport/webrtc/webrtc_audio_output.ts';
import { FakeClock } from '../../helpers/fake_clock.ts';

const FIRST_SEQ = 65_530; // wraps within the first frames
const FIRST_TS = 4_294_960_000; // wraps after ~7 frames

/** A 24 kHz tone of ms milliseconds at amplitude 8000. */
function tone24k(ms: number, hz = 220): Int16Array {
  return Int16Array.from({ length: ms * 24 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 24_000)));
}

function setup(overrides: Parameters<typeof defaultWebRtcConfig>[0] = {}) {
  const clock = new FakeClock();
  const packets: { packet: RtpPacket; atMs: number }[] = [];
  const events: (AudioOutputEvent & { atPacket: number })[] = [];
  const warn = vi.fn();
  const log = { warn, info() {}, debug() {}, error() {} } as unknown as Logger;
  const output = new WebRtcAudioOutput({
    config: defaultWebRtcConfig(overrides),
    track: { writeRtp: (packet) => packets.push({ packet, atMs: clock.now() }) },
    log,
    callId: 'rtc_test',
    clock,
    firstSequenceNumber: FIRST_SEQ,
    firstTimestamp: FIRST_TS,
  });
  output.setEventSink((event) => events.push({ ...event, atPacket: packets.length }));
  return { clock, output, packets, events, warn };
}

describe('WebRtcAudioOutput', () => {
  it('a frame the track refuses stops the playback of that call with a warning; nothing is thrown into the shared pacing clock', () => {
    const { clock, output, packets, warn } = setup();
    let refused = false;
    const failing = new WebRtcAudioOutput({
      config: defaultWebRtcConfig(),
      track: {
        writeRtp: () => {
          refused = true;
          throw new Error('transport closed');
        },
      },
      log: { warn, info() {}, debug() {}, error() {} } as unknown as Logger,
      callId: 'rtc_failing',
      clock,
    });
    for (const out of [failing, output]) {
      out.setConnected(true);
      out.write('resp_1', 'item_1', tone24k(400));
      out.end('resp_1');
    }
    expect(() => clock.advance(1_000)).not.toThrow();
    expect(refused).toBe(true);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ callId: 'rtc_failing', error: 'transport closed' }),
      expect.stringContaining('could not be sent'),
    );
    expect(packets).toHaveLength(20); // the other call played all of its 400 ms
  });

  it('sends nothing until connected, then 1 s of audio as 50 paced frames with consecutive sequence numbers and timestamps', () => {
    const { clock, output, packets, events } = setup();
    output.write('resp_1', 'item_1', tone24k(600));
    output.write('resp_1', 'item_1', tone24k(400));
    output.end('resp_1');
    clock.advance(2_000);
    expect(packets).toHaveLength(0); // DTLS not up: werift would drop them
    expect(output.isPlaying()).toBe(true);
    const startMs = clock.now();
    output.setConnected(true);
    clock.advance(2_000);
    expect(packets).toHaveLength(50);
    packets.forEach(({ packet, atMs }, i) => {
      expect(packet.header.sequenceNumber).toBe((FIRST_SEQ + i) & 0xffff);
      expect(packet.header.timestamp).toBe((FIRST_TS + i * 960) >>> 0);
      expect(packet.header.marker).toBe(i === 0);
      // The first frame leaves at once; the pacing clock wakes half of output_pacer_early_ms (2) before
      // each next deadline, and this fake clock's timers are punctual.
      expect(atMs - startMs).toBe(i === 0 ? 0 : i * 20 - 1);
    });
    expect(events.map((e) => [e.type, e.response_id, e.atPacket])).toEqual([
      ['output_audio_buffer.started', 'resp_1', 1],
      ['output_audio_buffer.stopped', 'resp_1', 50],
    ]);
    expect(output.isPlaying()).toBe(false);
    expect(output.stats.framesSent).toBe(50);
  });

  it('encodes real Opus: the frames decode back to the tone', async () => {
    const { clock, output, packets } = setup();
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(400));
    output.end('resp_1');
    clock.advance(1_000);
    const decoder = new OpusDecoder({ sampleRate: 48_000, channels: 1 });
    await decoder.ready;
    let energy = 0;
    let samples = 0;
    expect(packets).toHaveLength(20);
    packets.forEach(({ packet }, i) => {
      const { channelData, samplesDecoded } = decoder.decodeFrame(new Uint8Array(packet.payload));
      expect(samplesDecoded).toBe(960);
      if (i < 2) return; // the codec's start-up
      for (const s of channelData[0].subarray(0, samplesDecoded)) energy += s * s;
      samples += samplesDecoded;
    });
    decoder.free();
    const rms = Math.sqrt(energy / samples);
    // The tone's RMS is 8000 / 32768 / sqrt(2) = 0.173; a lossy codec keeps it within a few percent.
    expect(rms).toBeGreaterThan(0.15);
    expect(rms).toBeLessThan(0.2);
  });

  it('marks the first packet after a gap and moves the timestamp by the gap, sequence numbers staying consecutive', () => {
    const { clock, output, packets } = setup();
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(200));
    clock.advance(400); // plays what there is (up to the resampler's look-ahead), then runs dry
    const before = packets.length;
    expect(before).toBeGreaterThanOrEqual(9);
    expect(output.stats.underruns).toBe(1);
    const lastBefore = packets[before - 1];
    clock.advance(300);
    output.write('resp_1', 'item_1', tone24k(200));
    clock.advance(100);
    const resumed = packets[before];
    expect(resumed.packet.header.marker).toBe(true);
    expect(resumed.packet.header.sequenceNumber).toBe((lastBefore.packet.header.sequenceNumber + 1) & 0xffff);
    const gapFrames = Math.round((resumed.atMs - lastBefore.atMs) / 20);
    expect(gapFrames).toBeGreaterThan(10);
    expect((resumed.packet.header.timestamp - lastBefore.packet.header.timestamp) >>> 0).toBe(gapFrames * 960);
    expect(packets.slice(before + 1).every(({ packet }) => !packet.header.marker)).toBe(true);
  });

  it('clear() mid-playback returns the item and the ms actually sent, reports cleared and ignores late writes', () => {
    const { clock, output, packets, events } = setup();
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(2_000));
    clock.advance(490); // frames at 0, 20, ..., 480: 25 frames = 500 ms sent
    expect(packets).toHaveLength(25);
    expect(output.clear()).toEqual({ itemId: 'item_1', playedMs: 500 });
    expect(events.map((e) => e.type)).toEqual(['output_audio_buffer.started', 'output_audio_buffer.cleared']);
    expect(events[1].response_id).toBe('resp_1');
    expect(output.isPlaying()).toBe(false);
    // The synthesizer has not seen the cancel yet: its last chunk and end() change nothing.
    output.write('resp_1', 'item_1', tone24k(500));
    output.end('resp_1');
    clock.advance(1_000);
    expect(packets).toHaveLength(25);
    expect(output.clear()).toBeNull();
    // The next response plays normally, its first packet marked.
    output.write('resp_2', 'item_2', tone24k(100));
    output.end('resp_2');
    clock.advance(200);
    expect(packets).toHaveLength(30);
    expect(packets[25].packet.header.marker).toBe(true);
    expect(events.slice(2).map((e) => [e.type, e.response_id])).toEqual([
      ['output_audio_buffer.started', 'resp_2'],
      ['output_audio_buffer.stopped', 'resp_2'],
    ]);
  });

  it('clear() before anything was sent returns 0 ms of the waiting item', () => {
    const { output } = setup();
    output.write('resp_1', 'item_1', tone24k(300));
    expect(output.clear()).toEqual({ itemId: 'item_1', playedMs: 0 });
  });

  it('keeps at most output_buffer_max_seconds of audio: the rest of the write is dropped, counted and logged once', () => {
    const { clock, output, packets, warn } = setup({ output_buffer_max_seconds: 1 });
    output.write('resp_1', 'item_1', tone24k(600));
    output.write('resp_1', 'item_1', tone24k(600));
    output.write('resp_1', 'item_1', tone24k(600));
    expect(output.bufferedMs()).toBe(1_000);
    // 1.8 s written, 1 s kept; the resampler still holds its few-ms look-ahead, not yet counted either way.
    expect(output.stats.droppedMs).toBeGreaterThanOrEqual(790);
    expect(output.stats.droppedMs).toBeLessThanOrEqual(800);
    expect(warn).toHaveBeenCalledTimes(1);
    output.end('resp_1');
    output.setConnected(true);
    clock.advance(2_000);
    expect(packets).toHaveLength(50);
    // Room again once played: a new answer is accepted whole.
    const droppedBefore = output.stats.droppedMs;
    output.write('resp_2', 'item_2', tone24k(500));
    expect(output.stats.droppedMs).toBe(droppedBefore);
  });

  it('a disconnection pauses playback without losing audio', () => {
    const { clock, output, packets } = setup();
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(1_000));
    output.end('resp_1');
    clock.advance(190);
    expect(packets).toHaveLength(10);
    output.setConnected(false);
    clock.advance(1_000);
    expect(packets).toHaveLength(10);
    output.setConnected(true);
    clock.advance(1_000);
    expect(packets).toHaveLength(50);
    expect(packets[10].packet.header.marker).toBe(true);
  });

  it('output_frame_ms sets the frame: 40 ms frames are 25 per second, timestamps +1920', () => {
    const { clock, output, packets } = setup({ output_frame_ms: 40 });
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(1_000));
    output.end('resp_1');
    clock.advance(2_000);
    expect(packets).toHaveLength(25);
    expect(packets.map(({ atMs }) => atMs - packets[0].atMs)).toEqual(
      Array.from({ length: 25 }, (_, i) => (i === 0 ? 0 : i * 40 - 1)),
    );
    packets.forEach(({ packet }, i) => expect(packet.header.timestamp).toBe((FIRST_TS + i * 1920) >>> 0));
  });

  it('end() after everything has played reports stopped at once', () => {
    const { clock, output, events } = setup();
    output.setConnected(true);
    output.write('resp_1', 'item_1', tone24k(400));
    clock.advance(1_000);
    expect(events.map((e) => e.type)).toEqual(['output_audio_buffer.started']);
    output.end('resp_1');
    clock.advance(100);
    expect(events.map((e) => e.type)).toEqual(['output_audio_buffer.started', 'output_audio_buffer.stopped']);
    expect(output.isPlaying()).toBe(false);
  });
});
