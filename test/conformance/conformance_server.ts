// A real Earshot server for the conformance tests: the full `startServer` composition (auth off on
// loopback, admission, store in memory), optionally TLS with a self-signed certificate the tests trust,
// an engine (scripted, or the tiny ONNX model) and tool services in a temporary directory. Plus audio
// helpers: a WAV of placed speech at the clients' 24 kHz, streamed as base64 chunks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentServices } from '../../src/agent/create_services.ts';
import { float32ToPcm16Bytes } from '../../src/audio/pcm.ts';
import { readWav } from '../../src/audio/wav.ts';
import { OVERLOAD_GUARDS_OFF, configSchema, type EarshotConfig } from '../../src/config/schema.ts';
import type { SpeechEngine } from '../../src/engine/engine_session.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { noVoiceEngine } from '../../src/tts/select.ts';
import { encodeWav16kMono } from '../helpers/speech_wav_io.ts';

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

export interface ConformanceServer extends RunningServer {
  /** The self-signed certificate (PEM) when serving TLS. */
  ca: Buffer | null;
  /** `https://127.0.0.1:PORT/v1` (or http), the base URL an OpenAI client is given. */
  baseURL: string;
  port: number;
}

export async function startConformanceServer(
  engine: SpeechEngine | null,
  opts: { tls?: boolean; overrides?: Overrides } = {},
): Promise<ConformanceServer> {
  const overrides = opts.overrides ?? {};
  const tlsDir = mkdtempSync(join(tmpdir(), 'earshot-conf-tls-'));
  const config = configSchema.parse({
    ...overrides,
    server: {
      host: '127.0.0.1',
      port: 0,
      ...(opts.tls ? { tls_self_signed: true, tls_self_signed_dir: tlsDir } : {}),
      ...overrides.server,
    },
    log: { level: 'silent', ...overrides.log },
    // No overload refusals (event loop or VAD wait) from a loaded test machine unless a test asks.
    limits: {
      ...OVERLOAD_GUARDS_OFF,
      ...overrides.limits,
    },
  });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-conf-')) });
  // A text-only server (no voice engine): these tests pin what each client gets when it asks for audio
  // there; spoken answers with real clients are tested in test/integration/tts.
  const voiceEngine = noVoiceEngine(config.tts, 'install espeak-ng (apt install espeak-ng)');
  const running = await startServer(config, createLogger(config.log.level), { engine, services, env: {}, voiceEngine });
  const port = running.address.port;
  return {
    ...running,
    ca: opts.tls ? readFileSync(join(tlsDir, 'cert.pem')) : null,
    baseURL: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1`,
    port,
    close: async () => {
      await running.close();
      services.close();
    },
  };
}

/** 16 kHz samples written as a WAV and converted to 24 kHz PCM16 by sox, as a client app would read it. */
export function wavAt24k(samples16k: Float32Array): { path: string; pcm24k: Uint8Array; durationMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-conf-wav-'));
  const in16 = join(dir, 'speech16k.wav');
  const out24 = join(dir, 'speech24k.wav');
  writeFileSync(in16, encodeWav16kMono(samples16k));
  execFileSync('sox', ['-D', in16, '-r', '24000', '-b', '16', out24, 'vol', '0.9']);
  const wav = readWav(readFileSync(out24));
  if (wav.sampleRateHz !== 24_000) throw new Error(`sox wrote ${wav.sampleRateHz} Hz`);
  const pcm24k = float32ToPcm16Bytes(wav.channels[0]);
  return { path: out24, pcm24k, durationMs: (wav.channels[0].length / 24_000) * 1000 };
}

/** Base64 chunks of `chunkMs` of 24 kHz PCM16. */
export function base64Chunks(pcm24k: Uint8Array, chunkMs = 100): string[] {
  const bytes = chunkMs * 48;
  const out: string[] = [];
  for (let i = 0; i < pcm24k.length; i += bytes)
    out.push(Buffer.from(pcm24k.subarray(i, Math.min(pcm24k.length, i + bytes))).toString('base64'));
  return out;
}
