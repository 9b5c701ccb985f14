// `earshot serve` as the browser end-to-end test runs it: startServer from src/main.ts (the composition
// the CLI runs: auth, admission, store, the WebRTC calls route, the browser client at `/`, the agent
// runtime) loading the generated tiny Phi-4-mm model itself through the configured EngineHost. The only
// addition is an observer of the 16 kHz audio each connection hands its pipeline, so the test can align
// what the server heard with the WAV.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureFixtureModel } from '../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../src/main.ts';
import { AudioIntake } from '../../src/session/audio_intake.ts';
import { REPO_ROOT } from '../helpers/golden.ts';
import { startTestServer } from '../helpers/test_server.ts';

export interface E2eServer {
  running: RunningServer;
  /** http://127.0.0.1:port, where the browser client is served. */
  baseUrl: string;
  /** The 16 kHz audio the most recently opened connection fed its VAD, in order. */
  latestAudio(): Float32Array;
  /** Connections opened so far (each page connect is one). */
  connectionCount(): number;
  close(): Promise<void>;
}

/** Tokens per caption and per answer: the tiny model's text is noise; a few tokens prove the path. */
export const E2E_CAPTION_MAX_TOKENS = 6;
/** Answer cap for the tiny model, which never ends an answer by itself. */
export const E2E_ANSWER_MAX_TOKENS = 24;

type PushAudio = (this: AudioIntake, samples16k: Float32Array, samples8k?: Float32Array) => void;

/**
 * Observes a connection's single entry into its pipeline (AudioIntake's private `pushAudio`, one intake per
 * connection, reached from both binary WebSocket frames and WebRTC's decoded Opus) by wrapping the prototype
 * method for the lifetime of the server. Vitest runs each test file in its own worker, so no other file sees
 * the wrapper.
 */
function observeConnectionAudio(): { latest(): Float32Array; count(): number; restore(): void } {
  const proto = AudioIntake.prototype as unknown as { pushAudio: PushAudio };
  const original = proto.pushAudio;
  if (typeof original !== 'function') throw new Error('AudioIntake.pushAudio is gone: update the e2e audio observer');
  const received = new Map<AudioIntake, Float32Array[]>();
  proto.pushAudio = function (this: AudioIntake, samples16k, samples8k) {
    let chunks = received.get(this);
    if (!chunks) received.set(this, (chunks = []));
    chunks.push(samples16k.slice());
    original.call(this, samples16k, samples8k);
  };
  return {
    latest: () => concat([...received.values()].at(-1) ?? []),
    count: () => received.size,
    restore: () => {
      proto.pushAudio = original;
    },
  };
}

function concat(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export async function startE2eServer(): Promise<E2eServer> {
  const modelDir = await ensureFixtureModel('tiny');
  const audio = observeConnectionAudio();
  try {
    const running = await startTestServer({
      model: { dir: modelDir },
      // One onnxruntime thread: the machine's other core plays the WAV in Chromium in real time.
      engine: { intra_op_threads: 1 },
      // The tiny model never writes <|end|>: answers are capped so the engine stays free for captions.
      agent: { caption_max_tokens: E2E_CAPTION_MAX_TOKENS, max_output_tokens: E2E_ANSWER_MAX_TOKENS },
    });
    if (!running.engine) throw new Error(`the tiny model did not load: ${running.engineUnavailable?.message}`);
    return {
      running,
      baseUrl: running.httpUrl,
      latestAudio: audio.latest,
      connectionCount: audio.count,
      close: async () => {
        try {
          await running.close();
        } finally {
          audio.restore();
        }
      },
    };
  } catch (err) {
    audio.restore();
    throw err;
  }
}

export interface VadCliSegment {
  start_ms: number;
  end_ms: number;
  end_reason: string;
  audio_start_ms: number;
  audio_end_ms: number;
}

/** `earshot vad FILE --json` run as the CLI (its own process, default VAD settings). */
export function earshotVad(wavPath: string): Promise<VadCliSegment[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'earshot.mjs'), 'vad', wavPath, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`earshot vad exited ${code}: ${stderr}`));
      else resolve((JSON.parse(stdout) as { segments: VadCliSegment[] }).segments);
    });
  });
}
