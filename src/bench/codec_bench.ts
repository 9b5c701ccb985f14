// `earshot bench codec`: cost of the protocol edge on large and typical client events (JSON.parse, schema
// validation, base64 audio validation and decoding), median and p99 microseconds per event over N timed
// iterations. Figures, not a test.
import { decodeBase64Audio, decodeClientEvent } from '../protocol/index.ts';
import { percentile, round } from './stats.ts';

export interface CodecBenchOptions {
  /** Timed iterations per case (the large cases run a tenth of them, at least 3). */
  iterations?: number;
}

export interface CodecCaseFigures {
  iterations: number;
  us_p50: number;
  us_p99: number;
}

export type CodecBenchResult = Record<string, CodecCaseFigures>;

/** 3 MiB of PCM16 (65.5 s at 24 kHz) -> 4 MiB of base64: the largest append a client sends in one event. */
const LARGE_PCM_BYTES = 3 * 1024 * 1024;
/** 20 ms of 24 kHz PCM16: a typical append. */
const TYPICAL_PCM_BYTES = 960;

function frames() {
  const pcm = new Uint8Array(LARGE_PCM_BYTES);
  for (let i = 0; i < pcm.length; i++) pcm[i] = (i * 7919) & 0xff; // deterministic, not all zeros
  const audio4MiB = Buffer.from(pcm).toString('base64');
  const audio20ms = Buffer.from(pcm.subarray(0, TYPICAL_PCM_BYTES)).toString('base64');
  return {
    audio4MiB,
    append4MiB: JSON.stringify({ type: 'input_audio_buffer.append', event_id: 'e', audio: audio4MiB }),
    append20ms: JSON.stringify({ type: 'input_audio_buffer.append', audio: audio20ms }),
    sessionUpdate: JSON.stringify(SESSION_UPDATE),
  };
}

const SESSION_UPDATE = {
  type: 'session.update',
  session: {
    type: 'realtime',
    instructions: 'You are a helpful travel assistant.',
    output_modalities: ['text'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        noise_reduction: null,
        transcription: { model: 'gpt-4o-mini-transcribe' },
        turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
      },
    },
    tool_choice: 'auto',
    tools: [
      {
        type: 'function',
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ],
  },
};

function measure(iterations: number, run: () => unknown): CodecCaseFigures {
  for (let i = 0; i < Math.min(iterations, 10); i++) run(); // warm-up (JIT)
  const us: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    run();
    us.push((performance.now() - started) * 1000);
  }
  return { iterations, us_p50: round(percentile(us, 50), 2), us_p99: round(percentile(us, 99), 2) };
}

export function benchCodec(options: CodecBenchOptions = {}): CodecBenchResult {
  const n = options.iterations ?? 2000;
  const large = Math.max(3, Math.floor(n / 10));
  const f = frames();
  return {
    append_4mib_decode_event: measure(large, () => decodeClientEvent(f.append4MiB)),
    append_4mib_decode_audio: measure(large, () => decodeBase64Audio(f.audio4MiB)),
    // Node's own base64 decoding without validation, beside the figure above (same run).
    append_4mib_buffer_from_base64: measure(large, () => Buffer.from(f.audio4MiB, 'base64')),
    append_20ms_event_and_audio: measure(n, () => {
      const result = decodeClientEvent(f.append20ms);
      if (result.ok && result.event.type === 'input_audio_buffer.append') decodeBase64Audio(result.event.audio);
    }),
    session_update: measure(n, () => decodeClientEvent(f.sessionUpdate)),
  };
}
