// A real Earshot server on 127.0.0.1:0 with a given engine (scripted, the tiny ONNX model's EngineHost,
// or null) and tool services in a temporary directory; plus a speech streamer for the WebSocket.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentServices } from '../../../src/agent/create_services.ts';
import type { AgentServices } from '../../../src/agent/services.ts';
import { float32ToPcm16Bytes } from '../../../src/audio/pcm.ts';
import { OVERLOAD_GUARDS_OFF, configSchema, type EarshotConfig } from '../../../src/config/schema.ts';
import type { SpeechEngine } from '../../../src/engine/engine_session.ts';
import { startServer, type RunningServer } from '../../../src/main.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { TestClient } from '../../helpers/ws_client.ts';

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

export async function startAgentServer(
  engine: SpeechEngine | null,
  overrides: Overrides = {},
): Promise<RunningServer & { services: AgentServices }> {
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
    // As in test_server.ts: the test process runs engines and fixtures on its own event loop, so no
    // overload refusals (event loop or VAD wait) unless a test asks for them.
    limits: {
      ...OVERLOAD_GUARDS_OFF,
      ...overrides.limits,
    },
  });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-agent-')) });
  const running = await startServer(config, createLogger(config.log.level), { engine, services });
  return { ...running, services, close: async () => (await running.close(), services.close()) };
}

/** Switches the session to 16 kHz binary PCM16 input. */
export async function use16kBinary(client: TestClient, extra: Record<string, unknown> = {}): Promise<void> {
  client.send({
    type: 'session.update',
    session: { audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } }, ...extra },
  });
  await client.roundTrip();
}

/** Streams 16 kHz samples as binary frames of `chunkMs`, as fast as the socket takes them. */
export function streamPcm16k(client: TestClient, samples: Float32Array, chunkMs = 100): void {
  const chunk = chunkMs * 16;
  for (let i = 0; i < samples.length; i += chunk)
    client.sendRaw(float32ToPcm16Bytes(samples.subarray(i, Math.min(samples.length, i + chunk))));
}
