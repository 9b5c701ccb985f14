// Spoken answers over WebRTC under load: N real calls (werift peers on 127.0.0.1) to a real `earshot
// serve`, each playing `seconds` of speech at once, and the inter-arrival gap of the RTP packets each peer
// receives. The ideal gap is the frame duration (20 ms); a late timer or a blocked event loop shows up as
// longer gaps (followed by shorter ones). Figures, not a test: nothing here asserts a speed.
//
// What it feeds: each call's audio sink directly (the AudioOutputSink the session writes synthesized
// speech to), all of an answer at once as a fast synthesizer does, so the measure is the transport's
// buffering, pacing, Opus encoding and SRTP, not a voice engine's speed. The peers run in this process,
// on the server's event loop: their own receive work is counted in the gaps, so the figure is an upper
// bound on what a remote browser would see.
import { configSchema } from '../../config/schema.ts';
import { startServer, type RunningServer } from '../../main.ts';
import { createLogger } from '../../observability/logger.ts';
import { percentile, round } from '../stats.ts';
import { WebRtcListener } from './webrtc_listener.ts';

export interface WebrtcFrameGapOptions {
  /** Calls playing at once (20 by default). */
  sessions?: number;
  /** Seconds of audio each call plays (10 by default). */
  seconds?: number;
  progress?: (message: string) => void;
}

export interface WebrtcFrameGapResult {
  /** 99th percentile of the gap between consecutive RTP packets of one call, over all calls, in ms. */
  webrtc_frame_gap_p99_ms: number;
  /** Calls that played audio at once. */
  audio_sessions: number;
  webrtc_frame_gap_p50_ms: number;
  webrtc_frame_gap_max_ms: number;
  /** Frames the peers received, and frames the server was given to send (50 per second per call). */
  webrtc_frames_received: number;
  webrtc_frames_expected: number;
  /** CPU of this process (server and peers) during playback, % of one core. */
  process_cpu_pct: number;
}

const SPEECH_RATE_HZ = 24_000;
const FRAME_MS = 20;

export async function measureWebrtcFrameGaps(options: WebrtcFrameGapOptions = {}): Promise<WebrtcFrameGapResult> {
  const sessions = options.sessions ?? 20;
  const seconds = options.seconds ?? 10;
  const progress = options.progress ?? (() => {});
  const server = await startBenchServer(sessions);
  const listeners: WebRtcListener[] = [];
  try {
    for (let i = 0; i < sessions; i++) listeners.push(await WebRtcListener.connect(server.httpUrl));
    progress(`${sessions} calls connected; each plays ${seconds} s`);
    const speech = speechLike24k(seconds);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    for (const [i, listener] of listeners.entries()) {
      const sink = server.webrtcCalls.getCall(listener.callId)?.audioOutput;
      if (!sink) throw new Error(`call ${listener.callId} has no audio output`);
      sink.write(`resp_bench_${i}`, `item_bench_${i}`, speech);
      sink.end(`resp_bench_${i}`);
    }
    const timeoutMs = seconds * 1000 + 15_000;
    await Promise.all(listeners.map((l) => l.waitUntil(() => l.events.some((e) => e.type === 'output_audio_buffer.stopped'), timeoutMs, 'playback to end')));
    // The last packets are on their way when the server reports stopped.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPct = ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100;
    return { ...summarize(listeners, sessions, (seconds * 1000) / FRAME_MS), process_cpu_pct: round(cpuPct, 1) };
  } finally {
    await Promise.all(listeners.map((l) => l.close().catch(() => undefined)));
    await server.close();
  }
}

function summarize(listeners: WebRtcListener[], sessions: number, framesPerCall: number): Omit<WebrtcFrameGapResult, 'process_cpu_pct'> {
  const gaps: number[] = [];
  let received = 0;
  for (const { packets } of listeners) {
    received += packets.length;
    for (let i = 1; i < packets.length; i++) gaps.push(packets[i].atMs - packets[i - 1].atMs);
  }
  return {
    webrtc_frame_gap_p99_ms: round(percentile(gaps, 99), 2),
    audio_sessions: sessions,
    webrtc_frame_gap_p50_ms: round(percentile(gaps, 50), 2),
    webrtc_frame_gap_max_ms: round(gaps.reduce((a, b) => Math.max(a, b), 0), 2),
    webrtc_frames_received: received,
    webrtc_frames_expected: sessions * framesPerCall,
  };
}

async function startBenchServer(sessions: number): Promise<RunningServer> {
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    store: { path: ':memory:' },
    agent: { data_dir: ':memory:' },
    webrtc: { max_calls: sessions + 4 },
    // The peers share this process: their load must not make the server refuse calls.
    limits: { max_event_loop_delay_ms: 0, max_vad_lag_ms: 0 },
  });
  return startServer(config, createLogger('silent'), { env: {}, engine: null });
}

/**
 * `seconds` of a voiced, speech-like signal at 24 kHz: a 120-180 Hz gliding fundamental with harmonics,
 * syllable-rate amplitude modulation and short pauses. Deterministic; its content does not change the
 * pacing, but it gives the Opus encoder speech-sized work rather than silence.
 */
export function speechLike24k(seconds: number): Int16Array {
  const out = new Int16Array(Math.round(seconds * SPEECH_RATE_HZ));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / SPEECH_RATE_HZ;
    const f0 = 150 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / SPEECH_RATE_HZ;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t)) * (Math.sin(2 * Math.PI * 0.25 * t) > -0.8 ? 1 : 0);
    let voiced = 0;
    for (let h = 1; h <= 8; h++) voiced += Math.sin(h * phase) / h;
    out[i] = Math.round(6000 * syllable * voiced);
  }
  return out;
}
