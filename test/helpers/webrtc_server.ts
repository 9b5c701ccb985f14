// A real Earshot server on 127.0.0.1 with the WebRTC calls route mounted, composed the way src/main.ts
// composes `earshot serve` (RealtimeServer + RealtimeConnection per peer), so WebRTC can be tested before
// the integrator wires the route into main.ts. It also records what each call's session received.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configSchema, type EarshotConfig } from '../../src/config/schema.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { encodeServerEvent } from '../../src/protocol/codec.ts';
import { RealtimeConnection } from '../../src/session/realtime_connection.ts';
import { createWebRtcCallsRoute, type WebRtcCallsRoute } from '../../src/transport/webrtc/calls_route.ts';
import { webrtcConfigSchema, type WebRtcConfig } from '../../src/config/webrtc_schema.ts';
import { RealtimeServer } from '../../src/transport/ws_server.ts';
import { getSharedSileroModel } from '../../src/vad/silero_model.ts';
import { VadBatcher } from '../../src/vad/vad_batcher.ts';

/** What one call's session saw, for assertions. */
export interface RecordedSession {
  callId: string;
  url: URL;
  /** Decoded microphone audio, 16 kHz, in arrival order. */
  chunks: Float32Array[];
  samples16k: number;
  texts: number;
  disposed: boolean;
}

export interface WebRtcTestServer {
  /** http://127.0.0.1:port */
  baseUrl: string;
  /** ws://127.0.0.1:port/v1/realtime */
  wsUrl: string;
  route: WebRtcCallsRoute;
  sessions: Map<string, RecordedSession>;
  /** Resolves once the call's session has been disposed. */
  waitDisposed(callId: string, timeoutMs?: number): Promise<void>;
  audioOf(callId: string): Float32Array;
  close(): Promise<void>;
}

type Overrides = { [K in keyof EarshotConfig]?: Partial<EarshotConfig[K]> };

export async function startWebRtcTestServer(
  options: {
    webrtc?: Partial<WebRtcConfig>;
    config?: Overrides;
    authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  } = {},
): Promise<WebRtcTestServer> {
  const overrides = options.config ?? {};
  const config = configSchema.parse({
    ...overrides,
    server: { host: '127.0.0.1', port: 0, ...overrides.server },
    log: { level: 'silent', ...overrides.log },
  });
  const webrtcConfig = webrtcConfigSchema.parse(options.webrtc ?? {});
  const log = createLogger(config.log.level);
  const model = await getSharedSileroModel();
  const batcher = new VadBatcher(model, { maxBatchStreams: config.vad.batch_max_streams });
  const sessions = new Map<string, RecordedSession>();
  const disposedWaiters = new Map<string, (() => void)[]>();

  const newConnection = (url: URL, send: (text: string) => void, flow?: { pause(): void; resume(): void }) => {
    const intent = url.searchParams.get('intent');
    const connection = new RealtimeConnection({
      config,
      log,
      sessionType: intent === 'transcription' ? 'transcription' : 'realtime',
      openVadStream: () => batcher.openStream(),
      transport: {
        send: (event) => send(encodeServerEvent(event)),
        pauseInput: () => flow?.pause(),
        resumeInput: () => flow?.resume(),
      },
    });
    connection.start();
    return connection;
  };

  const route = createWebRtcCallsRoute({
    config: webrtcConfig,
    log,
    authorize: options.authorize,
    openSession: (peer, info) => {
      const record: RecordedSession = {
        callId: info.callId,
        url: info.url,
        chunks: [],
        samples16k: 0,
        texts: 0,
        disposed: false,
      };
      sessions.set(info.callId, record);
      const connection = newConnection(info.url, (text) => peer.sendText(text));
      return {
        handleText: (text) => {
          record.texts++;
          connection.handleText(text);
        },
        handlePcm16k: (samples) => {
          record.chunks.push(samples);
          record.samples16k += samples.length;
          connection.handlePcm16k(samples);
        },
        dispose: () => {
          connection.dispose();
          record.disposed = true;
          for (const resolve of disposedWaiters.get(info.callId) ?? []) resolve();
          disposedWaiters.delete(info.callId);
        },
      };
    },
  });

  const server = new RealtimeServer({
    config: config.server,
    log,
    routes: [route],
    openSocket: (peer, info) =>
      newConnection(info.url, (text) => peer.sendText(text), {
        pause: () => peer.pauseInput(),
        resume: () => peer.resumeInput(),
      }),
  });
  const address: AddressInfo = await server.listen();
  const host = `127.0.0.1:${address.port}`;
  return {
    baseUrl: `http://${host}`,
    wsUrl: `ws://${host}/v1/realtime`,
    route,
    sessions,
    waitDisposed: (callId, timeoutMs = 10_000) => {
      if (sessions.get(callId)?.disposed) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`call ${callId} was not disposed within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const list = disposedWaiters.get(callId) ?? [];
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
        disposedWaiters.set(callId, list);
      });
    },
    audioOf: (callId) => {
      const record = sessions.get(callId);
      if (!record) throw new Error(`no session for call ${callId}`);
      const out = new Float32Array(record.samples16k);
      let offset = 0;
      for (const chunk of record.chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
    close: async () => {
      await route.close();
      await server.close();
    },
  };
}
