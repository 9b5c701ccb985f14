// The peers of measureWebrtcFrameGaps, in a process of their own (as browsers would be), so their receive
// work is not the server's CPU: `--url BASE --sessions N --seconds S`. Prints one JSON line with the call
// ids once every call is connected, then one with the gaps once every call has played to the end.
import { parseArgs } from 'node:util';
import { percentile, round } from '../stats.ts';
import { WebRtcListener } from './webrtc_listener.ts';

const { values } = parseArgs({
  options: { url: { type: 'string' }, sessions: { type: 'string' }, seconds: { type: 'string' } },
});
const sessions = Number(values.sessions);
const seconds = Number(values.seconds);
const listeners: WebRtcListener[] = [];
for (let i = 0; i < sessions; i++) listeners.push(await WebRtcListener.connect(values.url!));
process.stdout.write(`${JSON.stringify({ callIds: listeners.map((l) => l.callId) })}\n`);
const timeoutMs = seconds * 1000 + 15_000;
await Promise.all(
  listeners.map((l) =>
    l.waitUntil(() => l.events.some((e) => e.type === 'output_audio_buffer.stopped'), timeoutMs, 'playback to end'),
  ),
);
// The last packets are on their way when the server reports stopped.
await new Promise((resolve) => setTimeout(resolve, 200));
const gaps: number[] = [];
let received = 0;
for (const { packets } of listeners) {
  received += packets.length;
  for (let i = 1; i < packets.length; i++) gaps.push(packets[i].atMs - packets[i - 1].atMs);
}
const gapsResult = {
  webrtc_frame_gap_p99_ms: round(percentile(gaps, 99), 2),
  webrtc_frame_gap_p50_ms: round(percentile(gaps, 50), 2),
  webrtc_frame_gap_max_ms: round(
    gaps.reduce((a, b) => Math.max(a, b), 0),
    2,
  ),
  webrtc_frames_received: received,
};
process.stdout.write(`${JSON.stringify({ gaps: gapsResult })}\n`);
await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
process.exit(0);
