import { OpusDecoder } from 'opus-decoder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebRtcListener, type ReceivedRtp } from '../../../src/bench/tts/webrtc_listener.ts';
import type { RunningServer } from '../../../src/main.ts';
import type { WebRtcAudioOutput } from '../../../src/transport/webrtc/webrtc_audio_output.ts';
import { startTestServer } from '../../helpers/test_server.ts';
import { WebRtcTestClient } from '../../helpers/webrtc_client.ts';

// Spoken answers over a real WebRTC call (werift peer <-> `earshot serve` on 127.0.0.1): the call's
// audio transceiver is sendrecv, and what the session writes to the call's sink arrives as paced Opus RTP.
// The sink is fed directly here; the session side that writes synthesized speech is tested on its own.

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

function tone24k(ms: number, hz = 220): Int16Array {
  return Int16Array.from({ length: ms * 24 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 24_000)));
}

function sinkOf(callId: string): WebRtcAudioOutput {
  const sink = server.webrtcCalls.getCall(callId)?.audioOutput;
  if (!sink) throw new Error(`call ${callId} has no audio output`);
  return sink;
}

async function decodedRms(packets: ReceivedRtp[]): Promise<number> {
  const decoder = new OpusDecoder({ sampleRate: 48_000, channels: 1 });
  await decoder.ready;
  let energy = 0;
  let samples = 0;
  for (const { payload } of packets) {
    const { channelData, samplesDecoded } = decoder.decodeFrame(payload);
    for (const s of channelData[0].subarray(0, samplesDecoded)) energy += s * s;
    samples += samplesDecoded;
  }
  decoder.free();
  return Math.sqrt(energy / Math.max(1, samples));
}

describe('WebRTC outbound audio', () => {
  it('answers a=sendrecv and plays what the sink is given as 20 ms Opus frames, reporting started and stopped', async () => {
    const listener = await WebRtcListener.connect(server.httpUrl);
    try {
      const audioSection = listener.answerSdp.split('m=').find((s) => s.startsWith('audio'))!;
      expect(audioSection).toContain('a=sendrecv');
      const sink = sinkOf(listener.callId);
      sink.write('resp_1', 'item_1', tone24k(1_000));
      sink.end('resp_1');
      await listener.waitUntil(
        () => listener.events.some((e) => e.type === 'output_audio_buffer.stopped'),
        10_000,
        'output_audio_buffer.stopped',
      );
      await listener.waitUntil(() => listener.packets.length >= 50, 2_000, '50 packets');
      const { packets } = listener;
      expect(packets).toHaveLength(50);
      packets.forEach((p, i) => {
        expect(p.sequenceNumber).toBe((packets[0].sequenceNumber + i) & 0xffff);
        expect(p.timestamp).toBe((packets[0].timestamp + i * 960) >>> 0);
        expect(p.marker).toBe(i === 0);
      });
      // Paced at real time, not sent in one burst: 49 frame intervals span about 980 ms.
      const spanMs = packets[49].atMs - packets[0].atMs;
      expect(spanMs).toBeGreaterThan(900);
      expect(spanMs).toBeLessThan(1_300);
      expect(await decodedRms(packets.slice(2))).toBeGreaterThan(0.1);
      const playback = listener.events.filter((e) => e.type.startsWith('output_audio_buffer.'));
      expect(playback.map((e) => [e.type, e.response_id])).toEqual([
        ['output_audio_buffer.started', 'resp_1'],
        ['output_audio_buffer.stopped', 'resp_1'],
      ]);
    } finally {
      await listener.close();
    }
  });

  it('clear() mid-playback: the ms it reports as played is what the peer received', async () => {
    const listener = await WebRtcListener.connect(server.httpUrl);
    try {
      const sink = sinkOf(listener.callId);
      sink.write('resp_1', 'item_1', tone24k(3_000));
      await listener.waitUntil(() => listener.packets.length >= 20, 5_000, '20 packets');
      const played = sink.clear();
      await listener.waitUntil(
        () => listener.events.some((e) => e.type === 'output_audio_buffer.cleared'),
        5_000,
        'output_audio_buffer.cleared',
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // packets in flight arrive; no more follow
      expect(played?.itemId).toBe('item_1');
      expect(played!.playedMs).toBe(listener.packets.length * 20);
      expect(played!.playedMs).toBeLessThan(3_000);
      expect(sink.isPlaying()).toBe(false);
    } finally {
      await listener.close();
    }
  });

  it('gives no audio sink to a call whose offer only sends (answer a=recvonly); the microphone path is unchanged', async () => {
    const client = await WebRtcTestClient.connect(server.httpUrl);
    try {
      expect(server.webrtcCalls.getCall(client.callId)?.audioOutput).toBeNull();
    } finally {
      await client.close();
    }
  });
});

describe('measureWebrtcFrameGaps (the benchmark piece)', () => {
  it('plays every frame of every call and reports the gap keys (no speed asserted)', async () => {
    const { measureWebrtcFrameGaps } = await import('../../../src/bench/tts/webrtc_frames.ts');
    const result = await measureWebrtcFrameGaps({ sessions: 2, seconds: 1 });
    expect(result.audio_sessions).toBe(2);
    expect(result.webrtc_frames_expected).toBe(100);
    expect(result.webrtc_frames_received).toBe(100);
    expect(result.webrtc_frame_gap_p99_ms).toBeGreaterThan(0);
    expect(result.webrtc_frame_gap_max_ms).toBeGreaterThanOrEqual(result.webrtc_frame_gap_p99_ms);
    expect(result.server_cpu_pct).toBeGreaterThan(0);
  });
});
