// The connection wiring the beta dialect needs, composed as src/main.ts composes its connections, minus
// the hardening layer: `dialect: dialectOf(info)` and `model: ?model=` from the upgrade request. Used
// while main.ts does not pass them yet (see the issue 7 report); the session layer under test is the
// same RealtimeConnection.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentCatalogue } from '../../agents/index.ts';
import { createAgentServices } from '../../src/agent/create_services.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { SpeechEngine } from '../../src/engine/engine_session.ts';
import { agentRuntimeSettings } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { encodeServerEvent } from '../../src/protocol/codec.ts';
import { RealtimeConnection } from '../../src/session/realtime_connection.ts';
import { dialectOf } from '../../src/session/session_support.ts';
import { RealtimeServer } from '../../src/transport/ws_server.ts';
import { getSharedSileroModel } from '../../src/vad/silero_model.ts';
import { VadBatcher } from '../../src/vad/vad_batcher.ts';

export interface DialectServer {
  port: number;
  baseURL: string;
  ca: Buffer;
  close(): Promise<void>;
}

export async function startDialectServer(engine: SpeechEngine): Promise<DialectServer> {
  const tlsDir = mkdtempSync(join(tmpdir(), 'earshot-conf-tls-'));
  const config = configSchema.parse({ server: { host: '127.0.0.1', port: 0, tls_self_signed: true, tls_self_signed_dir: tlsDir }, log: { level: 'silent' } });
  const log = createLogger('silent');
  const batcher = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: config.vad.batch_max_streams });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-conf-')) });
  const catalogue = createAgentCatalogue(config.agent.default);
  const server = new RealtimeServer({
    config: config.server,
    log,
    openSocket: (peer, info) => {
      const connection = new RealtimeConnection({
        config,
        log,
        sessionType: info.url.searchParams.get('intent') === 'transcription' ? 'transcription' : 'realtime',
        dialect: dialectOf(info),
        model: info.url.searchParams.get('model'),
        openVadStream: () => batcher.openStream(),
        transport: { send: (event) => peer.sendText(encodeServerEvent(event)), pauseInput: () => peer.pauseInput(), resumeInput: () => peer.resumeInput() },
        agent: { engine, catalogue, agentName: info.url.searchParams.get('agent'), settings: agentRuntimeSettings(config), services },
      });
      connection.start();
      return connection;
    },
  });
  const address = await server.listen();
  return {
    port: address.port,
    baseURL: `https://127.0.0.1:${address.port}/v1`,
    ca: readFileSync(join(tlsDir, 'cert.pem')),
    close: async () => {
      await server.close();
      services.close();
    },
  };
}
