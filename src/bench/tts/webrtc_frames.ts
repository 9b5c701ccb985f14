// Spoken answers over WebRTC under load: N real calls (werift peers on 127.0.0.1) to a real `earshot
// serve`, each playing `seconds` of speech at once, and the inter-arrival gap of the RTP packets each peer
// receives. The ideal gap is the frame duration (20 ms); a late timer or a blocked event loop shows up as
// longer gaps (followed by shorter ones). Figures, not a test: nothing here asserts a speed.
//
// What it feeds: each call's audio sink directly (the AudioOutputSink the session writes synthesized
// speech to), in 250 ms chunks 25x faster than real time as a fast synthesizer does, so the measure is the
// transport's buffering, pacing, Opus encoding and SRTP, not a voice engine's speed. The peers run in a
// child process (as remote browsers would), so their receive work is not the server's; arrival times are
// taken there at the UDP socket (the headline) and after werift's SRTP and depacketizing, and the server's
// own send times per call are recorded here, so where late packets come from can be told apart.
import { spawn, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { WebRtcAudioOutput } from '../../transport/webrtc/webrtc_audio_output.ts';
import { percentile, round } from '../stats.ts';
import { startWebrtcBenchServer } from '../webrtc_bench.ts';

/** The peers' process: a script of its own, so the benchmark does not depend on CLI wiring. */
const LISTENERS_MAIN = fileURLToPath(new URL('./webrtc_listeners_main.ts', import.meta.url));

export interface WebrtcFrameGapOptions {
  /** Calls playing at once (20 by default). */
  sessions?: number;
  /** Seconds of audio each call plays (10 by default). */
  seconds?: number;
  progress?: (message: string) => void;
}

export interface WebrtcFrameGapResult {
  /**
   * 99th percentile of the gap between consecutive RTP packets of one call, over all calls, in ms, as the
   * peers' UDP sockets receive them (before SRTP and depacketizing: see webrtc_socket_tap.ts).
   */
  webrtc_frame_gap_p99_ms: number;
  /** Calls that played audio at once. */
  audio_sessions: number;
  webrtc_frame_gap_p50_ms: number;
  webrtc_frame_gap_max_ms: number;
  /** Frames the peers' sockets received, and frames the server was given to send (50 per second per call). */
  webrtc_frames_received: number;
  webrtc_frames_expected: number;
  /** The same gaps taken after werift decrypted and depacketized each packet (the receiver's delays added). */
  webrtc_depacketized_gap_p99_ms: number;
  webrtc_depacketized_gap_p50_ms: number;
  webrtc_depacketized_gap_max_ms: number;
  webrtc_frames_depacketized: number;
  /** The peers' process's event-loop delay p99 during playback, ms. */
  peers_loop_delay_ms_p99: number;
  /** Gap between consecutive frames of one call as the server hands them to werift, ms. */
  server_send_gap_p99_ms: number;
  server_send_gap_p50_ms: number;
  server_send_gap_max_ms: number;
  /** How long after its due time the server sent a frame, ms (timer lateness plus the work before it). */
  server_send_lateness_ms_p99: number;
  /** CPU of the server's process during playback, % of one core (the peers run in another process). */
  server_cpu_pct: number;
  /** The server's event-loop delay p99 during playback, ms. */
  server_loop_delay_ms_p99: number;
}

const SPEECH_RATE_HZ = 24_000;
const FRAME_MS = 20;

export async function measureWebrtcFrameGaps(options: WebrtcFrameGapOptions = {}): Promise<WebrtcFrameGapResult> {
  const sessions = options.sessions ?? 20;
  const seconds = options.seconds ?? 10;
  const progress = options.progress ?? (() => {});
  const server = await startWebrtcBenchServer(sessions + 4);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      LISTENERS_MAIN,
      '--url',
      server.httpUrl,
      '--sessions',
      String(sessions),
      '--seconds',
      String(seconds),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const lines = jsonLines(child);
    const { callIds } = (await lines.next()) as { callIds: string[] };
    progress(`${sessions} calls connected; each plays ${seconds} s`);
    const speech = speechLike24k(seconds);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const sinks = callIds.map((callId) => {
      const sink = server.webrtcCalls.getCall(callId)?.audioOutput;
      if (!sink) throw new Error(`call ${callId} has no audio output`);
      return sink;
    });
    const sends = recordSends(sinks);
    await feedLikeASynthesizer(sinks, speech);
    const { gaps } = (await lines.next()) as { gaps: PeerGaps };
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuBefore);
    return {
      ...gaps,
      ...sends.summary(),
      audio_sessions: sessions,
      webrtc_frames_expected: sessions * ((seconds * 1000) / FRAME_MS),
      server_cpu_pct: round(((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100, 1),
      server_loop_delay_ms_p99: round(loopDelay.percentile(99) / 1e6, 1),
    };
  } finally {
    child.kill();
    await server.close();
  }
}

/** What the peers' process reports (the rest of the result is the server's). */
type PeerGaps = Pick<
  WebrtcFrameGapResult,
  | 'webrtc_frame_gap_p99_ms'
  | 'webrtc_frame_gap_p50_ms'
  | 'webrtc_frame_gap_max_ms'
  | 'webrtc_frames_received'
  | 'webrtc_depacketized_gap_p99_ms'
  | 'webrtc_depacketized_gap_p50_ms'
  | 'webrtc_depacketized_gap_max_ms'
  | 'webrtc_frames_depacketized'
  | 'peers_loop_delay_ms_p99'
>;

type ServerSends = Pick<
  WebrtcFrameGapResult,
  'server_send_gap_p99_ms' | 'server_send_gap_p50_ms' | 'server_send_gap_max_ms' | 'server_send_lateness_ms_p99'
>;

/** Records each sink's send times (from the server, per call) and each frame's lateness. */
function recordSends(sinks: WebRtcAudioOutput[]): { summary(): ServerSends } {
  const sentAtMs: number[][] = sinks.map(() => []);
  const latenessMs: number[] = [];
  sinks.forEach((sink, i) => {
    sink.onFrameSent = (atMs, dueAtMs) => {
      sentAtMs[i].push(atMs);
      latenessMs.push(atMs - dueAtMs);
    };
  });
  return {
    summary: () => {
      const gaps: number[] = [];
      for (const times of sentAtMs) for (let k = 1; k < times.length; k++) gaps.push(times[k] - times[k - 1]);
      return {
        server_send_gap_p99_ms: round(percentile(gaps, 99), 2),
        server_send_gap_p50_ms: round(percentile(gaps, 50), 2),
        server_send_gap_max_ms: round(
          gaps.reduce((a, b) => Math.max(a, b), 0),
          2,
        ),
        server_send_lateness_ms_p99: round(percentile(latenessMs, 99), 2),
      };
    },
  };
}

/** Chunk of a synthesizer's output (espeak-ng streams its audio in pipe-sized pieces of about this length). */
const CHUNK_MS = 250;
/** Pause between rounds of chunks: the synthesizer runs ahead of real time (25x here), yielding the loop. */
const CHUNK_ROUND_PAUSE_MS = 10;

/** Writes the speech to every sink in chunks, round by round, as sessions do while their answers are synthesized. */
async function feedLikeASynthesizer(sinks: WebRtcAudioOutput[], speech: Int16Array): Promise<void> {
  const chunkSamples = (SPEECH_RATE_HZ * CHUNK_MS) / 1000;
  for (let offset = 0; offset < speech.length; offset += chunkSamples) {
    const chunk = speech.subarray(offset, offset + chunkSamples);
    sinks.forEach((sink, i) => sink.write(`resp_bench_${i}`, `item_bench_${i}`, chunk));
    await new Promise((resolve) => setTimeout(resolve, CHUNK_ROUND_PAUSE_MS));
  }
  sinks.forEach((sink, i) => sink.end(`resp_bench_${i}`));
}

/** The child's stdout as parsed JSON lines, one per next(); rejects when the child exits first. */
function jsonLines(child: ChildProcess): { next(): Promise<unknown> } {
  const queue: unknown[] = [];
  const waiters: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  let buffered = '';
  let exited: Error | null = null;
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(JSON.parse(line));
      else queue.push(JSON.parse(line));
    }
  });
  child.on('exit', (code) => {
    exited = new Error(`the WebRTC peers' process exited with ${code}`);
    for (const waiter of waiters.splice(0)) waiter.reject(exited);
  });
  return {
    next: () => {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      if (exited) return Promise.reject(exited);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
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
