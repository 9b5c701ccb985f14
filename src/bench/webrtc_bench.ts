// `earshot bench webrtc`: offer-to-connected time of WebRTC calls on 127.0.0.1 (a werift peer calling a
// real `earshot serve`) and the cost of decoding 20 ms Opus speech packets (WebAssembly libopus, straight
// to 16 kHz). Figures, not a test: nothing here asserts a speed.
//
// The packets are encoded here with the server's own outbound encoder (libopus, 48 kHz, 'voip'), from the
// LibriVox speech the other benchmarks use; browsers encode with the same libopus, so the decode cost is
// representative of a microphone stream.
import { resample } from '../audio/resample.ts';
import { float32ToInt16 } from '../audio/pcm.ts';
import { OVERLOAD_GUARDS_OFF, configSchema } from '../config/schema.ts';
import { startServer, type RunningServer } from '../main.ts';
import { createLogger } from '../observability/logger.ts';
import { OPUS_ENCODE_RATE_HZ, OpusFrameEncoder } from '../transport/webrtc/opus_frame_encoder.ts';
import { OpusPacketDecoder } from '../transport/webrtc/opus_packet_decoder.ts';
import { loadBenchSpeech16k } from './bench_audio.ts';
import { percentile, round } from './stats.ts';
import { WebRtcListener } from './tts/webrtc_listener.ts';

export interface WebrtcBenchOptions {
  /** Calls measured (after the warm-up calls). */
  calls?: number;
  /** Times every packet is decoded. */
  decodeRounds?: number;
  /** Seconds of speech encoded (from the start of the bench speech). */
  seconds?: number;
  audio?: string;
}

/** Per-packet decode cost of one bitrate. */
export interface OpusDecodeFigures {
  bitrate_bps: number;
  packets: number;
  decode_us_per_packet: number;
  /** decode_us_per_packet as a share of the 20 ms it decodes, % of one core per call. */
  decode_core_pct_per_call: number;
  plc_us_per_20ms: number;
}

export interface WebrtcBenchResult {
  calls: number;
  /** POST of the offer -> answer written (server side), ms. */
  answer_ms_p50: number;
  answer_ms_max: number;
  /** POST of the offer -> events channel open (server side), ms. */
  connect_ms_p50: number;
  connect_ms_max: number;
  /** Offer created -> session.created received on the channel (client side), ms. */
  client_session_created_ms_p50: number;
  client_session_created_ms_max: number;
  opus_decode: OpusDecodeFigures[];
}

const FRAME_MS = 20;
const FRAME_SAMPLES_48K = (OPUS_ENCODE_RATE_HZ * FRAME_MS) / 1000;
const PLC_ROUNDS = 2000;
/** The first calls pay for JIT and WebAssembly compilation. */
const WARMUP_CALLS = 2;

export async function benchWebrtc(options: WebrtcBenchOptions = {}): Promise<WebrtcBenchResult> {
  const speech16k = await loadBenchSpeech16k(options.audio);
  const seconds = options.seconds ?? 20;
  const clip = speech16k.subarray(0, Math.min(speech16k.length, seconds * 16_000));
  const opus_decode: OpusDecodeFigures[] = [];
  for (const bitrateBps of [32_000, 64_000])
    opus_decode.push(await measureOpusDecode(clip, bitrateBps, options.decodeRounds ?? 20));
  return { ...(await measureCalls(options.calls ?? 10)), opus_decode };
}

function encodeOpus(samples16k: Float32Array, bitrateBps: number): Uint8Array[] {
  const pcm48k = float32ToInt16(resample(samples16k, 16_000, OPUS_ENCODE_RATE_HZ));
  const encoder = new OpusFrameEncoder({ bitrateBps, frameSamples: FRAME_SAMPLES_48K });
  const packets: Uint8Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES_48K <= pcm48k.length; at += FRAME_SAMPLES_48K)
    packets.push(encoder.encode(pcm48k.subarray(at, at + FRAME_SAMPLES_48K)));
  encoder.close();
  return packets;
}

async function measureOpusDecode(samples16k: Float32Array, bitrateBps: number, rounds: number) {
  const packets = encodeOpus(samples16k, bitrateBps);
  const decoder = await OpusPacketDecoder.create();
  try {
    for (const p of packets) decoder.decode(p); // warm-up
    const started = performance.now();
    for (let r = 0; r < rounds; r++) for (const p of packets) decoder.decode(p);
    const perPacketUs = ((performance.now() - started) * 1000) / (rounds * packets.length);
    const plcStarted = performance.now();
    for (let r = 0; r < PLC_ROUNDS; r++) decoder.conceal((16_000 * FRAME_MS) / 1000);
    const plcUs = ((performance.now() - plcStarted) * 1000) / PLC_ROUNDS;
    return {
      bitrate_bps: bitrateBps,
      packets: packets.length,
      decode_us_per_packet: round(perPacketUs, 1),
      decode_core_pct_per_call: round((perPacketUs / (FRAME_MS * 1000)) * 100, 3),
      plc_us_per_20ms: round(plcUs, 1),
    };
  } finally {
    decoder.free();
  }
}

async function measureCalls(calls: number): Promise<Omit<WebrtcBenchResult, 'opus_decode'>> {
  const server = await startWebrtcBenchServer(calls + WARMUP_CALLS + 2);
  const answer: number[] = [];
  const connect: number[] = [];
  const client: number[] = [];
  try {
    for (let i = 0; i < calls + WARMUP_CALLS; i++) {
      const started = performance.now();
      const peer = await WebRtcListener.connect(server.httpUrl);
      const clientMs = performance.now() - started;
      const timings = server.webrtcCalls.getCall(peer.callId)?.timings;
      if (i >= WARMUP_CALLS && timings?.answerMs != null && timings.connectMs != null) {
        answer.push(timings.answerMs);
        connect.push(timings.connectMs);
        client.push(clientMs);
      }
      await peer.close();
    }
  } finally {
    await server.close();
  }
  const p50 = (v: number[]) => round(percentile(v, 50), 1);
  const max = (v: number[]) => round(Math.max(...v), 1);
  return {
    calls: answer.length,
    answer_ms_p50: p50(answer),
    answer_ms_max: max(answer),
    connect_ms_p50: p50(connect),
    connect_ms_max: max(connect),
    client_session_created_ms_p50: p50(client),
    client_session_created_ms_max: max(client),
  };
}

/**
 * A server without an engine, with room for `maxCalls` calls: a closed peer's call is ended by the server
 * only when it notices (ICE/DTLS teardown), which can outlast the next call's setup. Its overload guards are
 * off: the benchmark's own load must not make it refuse calls.
 */
export function startWebrtcBenchServer(maxCalls: number): Promise<RunningServer> {
  const config = configSchema.parse({
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    store: { path: ':memory:' },
    agent: { data_dir: ':memory:' },
    webrtc: { max_calls: maxCalls },
    limits: OVERLOAD_GUARDS_OFF,
  });
  return startServer(config, createLogger('silent'), { env: {}, engine: null });
}
