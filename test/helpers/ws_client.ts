import WebSocket from 'ws';
import { EventRecorder, type ReceivedEvent } from './event_recorder.ts';

export type { ReceivedEvent } from './event_recorder.ts';

/** A Realtime test client that records every server event and lets a test wait for the ones it expects. */
export class TestClient extends EventRecorder {
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('server sent a binary frame');
      this.record(JSON.parse(data.toString()) as ReceivedEvent);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static async connect(
    url: string,
    options: WebSocket.ClientOptions & { protocols?: string[] } = {},
  ): Promise<TestClient> {
    const client = await TestClient.connectRaw(url, options);
    await client.waitFor((e) => e.type === 'session.created');
    return client;
  }

  /** Opens the socket without waiting for session.created (sidebands, refused connections). */
  static async connectRaw(
    url: string,
    options: WebSocket.ClientOptions & { protocols?: string[] } = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(url, options.protocols ?? [], options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  sendRaw(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await this.closed;
  }
}
