// A real Earshot server that speaks: the tiny ONNX model biased to write " audio" (speakable words, so
// every answer has audio; the plain tiny model writes digits without word breaks) and espeak-ng as the
// voice engine, on 127.0.0.1:0. Plus helpers to read a spoken response off the recorded events.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentServices } from '../../../src/agent/create_services.ts';
import { OVERLOAD_GUARDS_OFF, configSchema, type EarshotConfig } from '../../../src/config/schema.ts';
import type { SpeechEngine } from '../../../src/engine/engine_session.ts';
import { startServer, type RunningServer } from '../../../src/main.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import { noVoiceEngine, type VoiceEngine } from '../../../src/tts/select.ts';
import type { Synthesizer } from '../../../src/tts/synthesizer.ts';
import type { ReceivedEvent, TestClient } from '../../helpers/ws_client.ts';

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

/** Token ids of the fixture tokenizer: " the", " audio", ".", ",", " weather", " text", " help". */
export const SPEAKABLE_TOKEN_IDS = [260, 287, 46, 44, 572, 382, 365] as const;

export function espeakFor(config: EarshotConfig): Synthesizer {
  return new EspeakSynthesizer({ ...config.tts.espeak, maxInputChars: config.tts.max_input_chars });
}

export async function startSpokenServer(
  engine: SpeechEngine | null,
  opts: { speak?: boolean; overrides?: Overrides } = {},
): Promise<RunningServer> {
  const overrides = opts.overrides ?? {};
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
    limits: { ...OVERLOAD_GUARDS_OFF, ...overrides.limits },
  });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-tts-')) });
  const voiceEngine: VoiceEngine =
    opts.speak === false
      ? noVoiceEngine(config.tts, 'install espeak-ng (apt install espeak-ng)')
      : { synthesizer: espeakFor(config), status: { requested: 'espeak', engine: 'espeak' } };
  const running = await startServer(config, createLogger(config.log.level), { engine, services, env: {}, voiceEngine });
  return { ...running, close: async () => (await running.close(), services.close()) };
}

/** A user text item and a response to it; resolves with the response's events (response.created .. response.done). */
export async function askFor(
  c: TestClient,
  text: string,
  response: Record<string, unknown> = {},
): Promise<ReceivedEvent[]> {
  const from = c.events.length;
  c.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  c.send({ type: 'response.create', response });
  await c.waitFor((e) => e.type === 'response.done', 120_000, from);
  return responseEvents(c, from);
}

/** The events of the first response after `from`, from response.created to response.done. */
export function responseEvents(c: TestClient, from: number): ReceivedEvent[] {
  const events = c.events.slice(from);
  const start = events.findIndex((e) => e.type === 'response.created');
  const end = events.findIndex((e) => e.type === 'response.done');
  return events.slice(start, end + 1);
}

/** The base64 audio deltas of a response, decoded and joined. */
export function audioBytes(events: ReceivedEvent[], type = 'response.output_audio.delta'): Buffer {
  return Buffer.concat(events.filter((e) => e.type === type).map((e) => Buffer.from(e.delta as string, 'base64')));
}

export function pcm16Rms(bytes: Buffer): number {
  let sum = 0;
  const n = Math.floor(bytes.length / 2);
  for (let i = 0; i < n; i++) sum += bytes.readInt16LE(i * 2) ** 2;
  return n === 0 ? 0 : Math.sqrt(sum / n);
}

export function transcriptOf(events: ReceivedEvent[], type = 'response.output_audio_transcript.delta'): string {
  return events
    .filter((e) => e.type === type)
    .map((e) => e.delta as string)
    .join('');
}
