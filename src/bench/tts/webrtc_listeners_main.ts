// The peers of measureWebrtcFrameGaps, in a process of their own (as browsers would be), so their receive
// work is not the server's CPU: `--url BASE --sessions N --seconds S`. Prints one JSON line with the call
// ids once every call is connected, then one with the gaps once every call has played to the end.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile, round } from '../stats.ts';
import { WebRtcListener } from './webrtc_listener.ts';
import { tapRtpArrivals } from './webrtc_socket_tap.ts';

const { values } = parseArgs({
  options: { url: { type: 'string' }, sessions: { type: 'string' }, seconds: { type: 'string' } },
});
const sessions = Number(values.sessions);
const seconds = Number(values.seconds);
const tap = tapRtpArrivals();
const listeners: WebRtcListener[] = [];
for (let i = 0; i < sessions; i++) listeners.push(await WebRtcListener.connect(values.url!));
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
process.stdout.write(`${JSON.stringify({ callIds: listeners.map((l) => l.callId) })}\n`);
const timeoutMs = seconds * 1000 + 15_000;
await Promise.all(
  listeners.map((l) =>
    l.waitUntil(() => l.events.some((e) => e.type === 'output_audio_buffer.stopped'), timeoutMs, 'playback to end'),
  ),
);
// The last packets are on their way when the server reports stopped.
await new Promise((resolve) => setTimeout(resolve, 200));
loopDelay.disable();
tap.remove();

const socketGaps: number[] = [];
let socketReceived = 0;
for (const { atMs } of tap.streams.values()) {
  socketReceived += atMs.length;
  socketGaps.push(...consecutiveGaps(atMs));
}
const depacketizedGaps: number[] = [];
let received = 0;
for (const { packets } of listeners) {
  received += packets.length;
  depacketizedGaps.push(...consecutiveGaps(packets.map((p) => p.atMs)));
}
const gapsResult = {
  webrtc_frame_gap_p99_ms: round(percentile(socketGaps, 99), 2),
  webrtc_frame_gap_p50_ms: round(percentile(socketGaps, 50), 2),
  webrtc_frame_gap_max_ms: round(max(socketGaps), 2),
  webrtc_frames_received: socketReceived,
  webrtc_depacketized_gap_p99_ms: round(percentile(depacketizedGaps, 99), 2),
  webrtc_depacketized_gap_p50_ms: round(percentile(depacketizedGaps, 50), 2),
  webrtc_depacketized_gap_max_ms: round(max(depacketizedGaps), 2),
  webrtc_frames_depacketized: received,
  peers_loop_delay_ms_p99: round(loopDelay.percentile(99) / 1e6, 1),
};
process.stdout.write(`${JSON.stringify({ gaps: gapsResult })}\n`);
await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
process.exit(0);

function consecutiveGaps(atMs: number[]): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < atMs.length; i++) gaps.push(atMs[i] - atMs[i - 1]);
  return gaps;
}

function max(values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0);
}
