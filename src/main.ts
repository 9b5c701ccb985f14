import type { AddressInfo } from 'node:net';
import type { EarshotConfig } from './config/schema.ts';
import type { Logger } from './observability/logger.ts';
import { encodeServerEvent } from './protocol/codec.ts';
import { RealtimeConnection } from './session/realtime_connection.ts';
import { RealtimeServer } from './transport/ws_server.ts';
import { getSharedSileroModel } from './vad/silero_model.ts';
import { VadBatcher } from './vad/vad_batcher.ts';

export interface RunningServer {
  address: AddressInfo;
  url: string;
  server: RealtimeServer;
  close(): Promise<void>;
}

/** Composition root of `earshot serve`: one Silero model and VAD batcher shared by every connection. */
export async function startServer(config: EarshotConfig, log: Logger): Promise<RunningServer> {
  const model = await getSharedSileroModel();
  const batcher = new VadBatcher(model, { maxBatchStreams: config.vad.batch_max_streams });
  const server = new RealtimeServer({
    config: config.server,
    log,
    openSocket: (peer, info) => {
      const intent = info.url.searchParams.get('intent');
      const connection = new RealtimeConnection({
        config,
        log,
        sessionType: intent === 'transcription' ? 'transcription' : 'realtime',
        openVadStream: () => batcher.openStream(),
        transport: {
          send: (event) => peer.sendText(encodeServerEvent(event)),
          pauseInput: () => peer.pauseInput(),
          resumeInput: () => peer.resumeInput(),
        },
      });
      connection.start();
      return connection;
    },
  });
  const address = await server.listen();
  const url = `${server.scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/v1/realtime`;
  log.info({ url }, 'earshot listening');
  return { address, url, server, close: () => server.close() };
}

