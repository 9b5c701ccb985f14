// A real Earshot server on 127.0.0.1 serving the browser client at `/` (the static route), the
// WebSocket at /v1/realtime and, when asked, WebRTC calls at /v1/realtime/calls: composed the way
// src/main.ts composes `earshot serve`, so the page can be tested before the integrator mounts the
// static route there. Also keeps every server event per session for assertions.
import type { AddressInfo } from 'node:net';
import { pcm16BytesToFloat32 } from '../../src/audio/pcm.ts';
import { configSchema, type EarshotConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { encodeServerEvent } from '../../src/protocol/codec.ts';
import type { ServerEvent } from '../../src/protocol/server_events.ts';
import { RealtimeConnection } from '../../src/session/realtime_connection.ts';
import { createStaticRoute } from '../../src/transport/static_route.ts';
import { createWebRtcCallsRoute, type WebRtcCallsRoute } from '../../src/transport/webrtc/calls_route.ts';
import { webrtcConfigSchema } from '../../src/transport/webrtc/config.ts';
import { RealtimeServer, type HttpRoute } from '../../src/transport/ws_server.ts';
import { getSharedSileroModel } from '../../src/vad/silero_model.ts';
import { VadBatcher } from '../../src/vad/vad_batcher.ts';

export interface ClientTestServer {
  /** http://127.0.0.1:port */
  baseUrl: string;
  wsUrl: string;
  /** Events sent to each session, keyed 'ws:N' or the WebRTC call id, in order of opening. */
  sessions: Map<string, ServerEvent[]>;
  /** The 16 kHz audio each session received (WebSocket binary frames, or WebRTC decoded Opus). */
  audioOf(key: string): Float32Array;
  webrtc: WebRtcCallsRoute | null;
  close(): Promise<void>;
}

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

export async function startClientTestServer(options: { webrtc?: boolean; config?: Overrides; clientOutDir?: string } = {}): Promise<ClientTestServer> {
  const overrides = options.config ?? {};
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
  });
  const log = createLogger(config.log.level);
  const batcher = new VadBatcher(await getSharedSileroModel(), { maxBatchStreams: config.vad.batch_max_streams });
  const sessions = new Map<string, ServerEvent[]>();
  const received = new Map<string, Float32Array[]>();
  let wsCount = 0;

  const newConnection = (key: string, url: URL, send: (text: string) => void, flow?: { pause(): void; resume(): void }) => {
    const events: ServerEvent[] = [];
    sessions.set(key, events);
    const connection = new RealtimeConnection({
      config,
      log,
      sessionType: url.searchParams.get('intent') === 'transcription' ? 'transcription' : 'realtime',
      openVadStream: () => batcher.openStream(),
      transport: {
        send: (event) => {
          events.push(event);
          send(encodeServerEvent(event));
        },
        pauseInput: () => flow?.pause(),
        resumeInput: () => flow?.resume(),
      },
    });
    connection.start();
    return connection;
  };

  const webrtc = options.webrtc
    ? createWebRtcCallsRoute({
        config: webrtcConfigSchema.parse({}),
        log,
        openSession: (peer, info) => {
          const connection = newConnection(info.callId, info.url, (text) => peer.sendText(text));
          const chunks: Float32Array[] = [];
          received.set(info.callId, chunks);
          return {
            handleText: (text: string) => connection.handleText(text),
            handlePcm16k: (samples: Float32Array) => {
              chunks.push(samples.slice());
              connection.handlePcm16k(samples);
            },
            dispose: () => connection.dispose(),
          };
        },
      })
    : null;
  const routes: HttpRoute[] = [createStaticRoute({ outDir: options.clientOutDir, log }), ...(webrtc ? [webrtc] : [])];
  const server = new RealtimeServer({
    config: config.server,
    log,
    routes,
    openSocket: (peer, info) => {
      const key = `ws:${++wsCount}`;
      const connection = newConnection(key, info.url, (text) => peer.sendText(text), { pause: () => peer.pauseInput(), resume: () => peer.resumeInput() });
      const chunks: Float32Array[] = [];
      received.set(key, chunks);
      return {
        handleText: (text: string) => connection.handleText(text),
        // The page sends 16 kHz PCM16 binary frames (its session declares audio/pcm at 16000 Hz).
        handleBinary: (bytes: Uint8Array) => {
          chunks.push(pcm16BytesToFloat32(bytes));
          connection.handleBinary(bytes);
        },
        dispose: () => connection.dispose(),
      };
    },
  });
  const address: AddressInfo = await server.listen();
  const host = `127.0.0.1:${address.port}`;
  return {
    baseUrl: `http://${host}`,
    wsUrl: `ws://${host}/v1/realtime`,
    sessions,
    audioOf: (key) => {
      const chunks = received.get(key) ?? [];
      const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
    webrtc,
    close: async () => {
      await webrtc?.close();
      await server.close();
    },
  };
}
