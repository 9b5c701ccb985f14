import WebSocket from 'ws';

export interface ReceivedEvent {
  type: string;
  event_id: string;
  [key: string]: unknown;
}

/** A Realtime test client that records every server event and lets a test wait for the ones it expects. */
export class TestClient {
  readonly events: ReceivedEvent[] = [];
  private waiters: { predicate: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }[] = [];
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('server sent a binary frame');
      const event = JSON.parse(data.toString()) as ReceivedEvent;
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => (w.predicate(event) ? (w.resolve(event), false) : true));
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static async connect(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<TestClient> {
    const client = await TestClient.connectRaw(url, options);
    await client.waitFor((e) => e.type === 'session.created');
    return client;
  }

  /** Opens the socket without waiting for session.created (sidebands, refused connections). */
  static async connectRaw(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<TestClient> {
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

  /** Resolves with the first event (already received or future) matching the predicate after `fromIndex`. */
  waitFor(predicate: (e: ReceivedEvent) => boolean, timeoutMs = 10_000, fromIndex = 0): Promise<ReceivedEvent> {
    const existing = this.events.slice(fromIndex).find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for an event; got ${this.events.map((e) => e.type).join(', ')}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Sends a marker (a session.update that changes nothing) and waits for its reply: all earlier input has been handled. */
  async roundTrip(): Promise<void> {
    const from = this.events.length;
    this.send({ type: 'session.update', session: {} });
    await this.waitFor((e) => e.type === 'session.updated', 10_000, from);
  }

  ofType(type: string): ReceivedEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await this.closed;
  }
}
