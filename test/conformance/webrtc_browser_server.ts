// Earshot's WebRTC calls route with the voice agent (a given engine) behind each call, composed as
// src/main.ts composes WebSocket connections (main.ts does not mount the route yet), plus a page and an
// esbuild bundle of @openai/agents-realtime's browser build served from the same origin, so Chromium can
// run the SDK's WebRTC transport with no CDN.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createAgentCatalogue } from '../../agents/index.ts';
import { createAgentServices } from '../../src/agent/create_services.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { SpeechEngine } from '../../src/engine/engine_session.ts';
import { agentRuntimeSettings } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { encodeServerEvent } from '../../src/protocol/codec.ts';
import { RealtimeConnection } from '../../src/session/realtime_connection.ts';
import { createWebRtcCallsRoute } from '../../src/transport/webrtc/calls_route.ts';
import { webrtcConfigSchema } from '../../src/config/webrtc_schema.ts';
import { RealtimeServer } from '../../src/transport/ws_server.ts';
import { getSharedSileroModel } from '../../src/vad/silero_model.ts';
import { VadBatcher } from '../../src/vad/vad_batcher.ts';

const SDK_EVENTS = join(
  import.meta.dirname,
  '../../node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs',
);

/** The SDK's browser build (exports condition "browser") and its event parser, as `window.AgentsRealtime`. */
export async function bundleAgentsRealtime(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebRTC, tool } from '@openai/agents-realtime';
        import { parseRealtimeEvent } from ${JSON.stringify(SDK_EVENTS)};
        window.AgentsRealtime = { RealtimeAgent, RealtimeSession, OpenAIRealtimeWebRTC, tool, parseRealtimeEvent };
      `,
      resolveDir: join(import.meta.dirname, '../..'),
      loader: 'js',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export interface WebRtcAgentServer {
  baseUrl: string;
  close(): Promise<void>;
}

export async function startWebRtcAgentServer(engine: SpeechEngine): Promise<WebRtcAgentServer> {
  const config = configSchema.parse({ server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } });
  const log = createLogger('silent');
  const batcher = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: config.vad.batch_max_streams });
  const services = createAgentServices(config.agent, { dataDir: mkdtempSync(join(tmpdir(), 'earshot-conf-rtc-')) });
  const catalogue = createAgentCatalogue(config.agent.default);
  const bundle = await bundleAgentsRealtime();
  const calls = createWebRtcCallsRoute({
    config: webrtcConfigSchema.parse({}),
    log,
    openSession: (peer, info) => {
      const connection = new RealtimeConnection({
        config,
        log,
        model: info.url.searchParams.get('model'),
        openVadStream: () => batcher.openStream(),
        transport: { send: (event) => peer.sendText(encodeServerEvent(event)), pauseInput() {}, resumeInput() {} },
        agent: { engine, catalogue, settings: agentRuntimeSettings(config), services },
      });
      connection.start();
      return connection;
    },
  });
  const server = new RealtimeServer({
    config: config.server,
    log,
    routes: [
      calls,
      (req, res, url) => {
        if (req.method !== 'GET' || (url.pathname !== '/agents-realtime.js' && url.pathname !== '/')) return false;
        const js = url.pathname !== '/';
        res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
        res.end(
          js ? bundle : '<!doctype html><title>agents-realtime</title><script src="/agents-realtime.js"></script>',
        );
        return true;
      },
    ],
    openSocket: () => {
      throw new Error('WebSocket not served here');
    },
  });
  const address = await server.listen();
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await calls.close();
      await server.close();
      services.close();
    },
  };
}
