import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import { upgradeRefusal } from './auth.ts';
import type { HostCheck } from './host_allowlist.ts';
import { loadOrCreateSelfSigned, loadTlsFiles, type TlsMaterial } from './tls.ts';
import { CLOSE_GOING_AWAY, CLOSE_POLICY } from './close_codes.ts';

/** What the session layer provides per WebSocket: the transport knows nothing about the protocol. */
export interface SocketHandler {
  handleText(text: string): void;
  /**
   * A text frame as received (UTF-8 bytes, not yet decoded): a handler that can refuse some frames from
   * their size alone saves their decoding. Without it, handleText gets the decoded text.
   */
  handleTextFrame?(frame: Buffer): void;
  handleBinary(bytes: Uint8Array): void;
  dispose(): void;
}

export interface SocketPeer {
  sendText(text: string): void;
  pauseInput(): void;
  resumeInput(): void;
  close(code: number, reason: string): void;
}

export interface UpgradeInfo {
  url: URL;
  headers: IncomingMessage['headers'];
  protocols: string[];
  /** What gateUpgrade decided for this request (e.g. the caller's identity); undefined without a gate. */
  context?: unknown;
}

/**
 * Decision taken before the WebSocket handshake (auth, origin, admission): a refusal is answered as a
 * plain HTTP response (401/403/429/503) and the socket is never upgraded.
 */
export type UpgradeGateResult =
  | { ok: true; context?: unknown }
  | { ok: false; status: number; code: string; message: string; headers?: Record<string, string> };

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface RealtimeServerOptions {
  config: ServerConfig;
  log: Logger;
  openSocket: (peer: SocketPeer, info: UpgradeInfo) => SocketHandler;
  routes?: HttpRoute[];
  /** Checked on every upgrade to /v1/realtime before the handshake; refusals never reach openSocket. */
  gateUpgrade?: (req: IncomingMessage, url: URL) => UpgradeGateResult;
  /**
   * Checked first on every HTTP request and upgrade, whatever the route (DNS rebinding: the Host header
   * must name this server); a refusal is answered with its status and code.
   */
  checkHost?: HostCheck;
  /** Called when an upgrade is refused by the connection cap (the gate counts its own refusals). */
  onUpgradeRefused?: (status: number, code: string) => void;
}

export const REALTIME_PATH = '/v1/realtime';
// Close codes live in close_codes.ts; re-exported for the modules that take them from here.
export { CLOSE_GOING_AWAY, CLOSE_POLICY };

/**
 * HTTP + WebSocket server for the Realtime endpoint. I/O only: limits on message size, connection count,
 * outbound buffering and dead peers live here; everything about events lives in the session layer.
 */
export class RealtimeServer {
  private server: Server | null = null;
  private readonly wss: WebSocketServer;
  /** Set when serving TLS: the certificate's path, for NODE_EXTRA_CA_CERTS. */
  tls: TlsMaterial | null = null;
  private readonly sockets = new Set<WebSocket>();
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly opts: RealtimeServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.config.max_message_bytes,
      perMessageDeflate: false,
      // Browsers authenticate with subprotocols; the server must select `realtime` when offered.
      handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false),
    });
  }

  /** The HTTP(S) server; exists once listen() has been called. */
  get http(): Server {
    if (!this.server) throw new Error('RealtimeServer.listen() has not been called');
    return this.server;
  }

  get scheme(): 'ws' | 'wss' {
    return this.tls ? 'wss' : 'ws';
  }

  async listen(): Promise<AddressInfo> {
    const cfg = this.opts.config;
    if (cfg.tls_cert_file || cfg.tls_key_file) {
      if (!cfg.tls_cert_file || !cfg.tls_key_file)
        throw new Error('tls_cert_file and tls_key_file must be given together');
      this.tls = loadTlsFiles(cfg.tls_cert_file, cfg.tls_key_file);
    } else if (cfg.tls_self_signed) {
      this.tls = await loadOrCreateSelfSigned(cfg.tls_self_signed_dir);
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    const server: Server = this.tls
      ? createHttpsServer({ cert: this.tls.cert, key: this.tls.key }, onRequest)
      : createServer(onRequest);
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cfg.port, cfg.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.startHeartbeat();
    return server.address() as AddressInfo;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Closes every WebSocket with `code` (1001 by default), terminates those that have not completed the
   * closing handshake after `terminateAfterMs`, then stops the HTTP server.
   */
  async close(code = CLOSE_GOING_AWAY, reason = 'server shutting down', terminateAfterMs = 2000): Promise<void> {
    clearInterval(this.heartbeat);
    for (const ws of this.sockets) ws.close(code, reason);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const ws of this.sockets) ws.terminate();
        resolve();
      }, terminateAfterMs);
      const check = () => (this.sockets.size === 0 ? (clearTimeout(timer), resolve()) : setTimeout(check, 20));
      check();
    });
    this.wss.close();
    // Keep-alive HTTP connections would hold close() open until they time out.
    this.server?.closeIdleConnections();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const hostRefusal = this.opts.checkHost?.(req.headers);
      if (hostRefusal) {
        sendJson(res, hostRefusal.status, {
          error: { type: 'invalid_request_error', code: hostRefusal.code, message: hostRefusal.message, param: null },
        });
        return;
      }
      const url = parseRequestUrl(req.url);
      if (!url) {
        sendJson(res, 400, {
          error: { code: 'E_INVALID_REQUEST', message: 'The request target is not a valid path.' },
        });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/healthz') {
        sendJson(res, 200, { status: 'ok', connections: this.sockets.size });
        return;
      }
      for (const route of this.opts.routes ?? []) if (await route(req, res, url)) return;
      sendJson(res, 404, { error: { code: 'E_NOT_FOUND', message: `No route for ${req.method} ${url.pathname}` } });
    } catch (err) {
      this.opts.log.error({ err }, 'http request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'E_INTERNAL', message: 'Internal error' } });
      else res.destroy();
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removes its own error listener from upgraded sockets: a peer reset must not crash the process.
    socket.on('error', () => socket.destroy());
    const hostRefusal = this.opts.checkHost?.(req.headers);
    if (hostRefusal) return refuse(socket, upgradeRefusal(hostRefusal.status, hostRefusal.code, hostRefusal.message));
    const url = parseRequestUrl(req.url);
    if (!url) return rejectUpgrade(socket, 400, 'Bad Request');
    if (url.pathname !== REALTIME_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (this.sockets.size >= this.opts.config.max_connections) {
      this.opts.onUpgradeRefused?.(503, 'E_CAPACITY');
      return refuse(
        socket,
        upgradeRefusal(
          503,
          'E_CAPACITY',
          `The server is at its limit of ${this.opts.config.max_connections} connections; retry later.`,
          { 'Retry-After': '5' },
        ),
      );
    }
    let context: unknown;
    if (this.opts.gateUpgrade) {
      const decision = this.opts.gateUpgrade(req, url);
      if (!decision.ok) {
        return refuse(socket, upgradeRefusal(decision.status, decision.code, decision.message, decision.headers));
      }
      context = decision.context;
    }
    const protocols = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    // handleUpgrade calls back synchronously, so nothing can be admitted between the gate and openSocket.
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.onSocket(ws, { url, headers: req.headers, protocols, context }),
    );
  }

  private onSocket(ws: WebSocket, info: UpgradeInfo): void {
    this.sockets.add(ws);
    let alive = true;
    ws.on('pong', () => (alive = true));
    const maxBuffered = this.opts.config.max_outbound_buffered_bytes;
    // Input is paused while the session asks (audio backpressure) or while this socket yields the event loop
    // after a large message; it resumes only when neither holds.
    let flowPaused = false;
    let yielding = false;
    const applyPause = () => (flowPaused || yielding ? ws.pause() : ws.resume());
    const yieldAfterBytes = this.opts.config.yield_after_message_bytes;
    const peer: SocketPeer = {
      sendText: (text) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > maxBuffered) {
          ws.close(CLOSE_POLICY, 'client is not reading its events');
          return;
        }
        ws.send(text);
      },
      pauseInput: () => {
        flowPaused = true;
        applyPause();
      },
      resumeInput: () => {
        flowPaused = false;
        applyPause();
      },
      close: (code, reason) => ws.close(code, reason),
    };
    let handler: SocketHandler | null = null;
    try {
      handler = this.opts.openSocket(peer, info);
    } catch (err) {
      this.opts.log.error({ err }, 'failed to open a session');
      ws.close(1011, 'session could not be created');
    }
    ws.on('message', (data, isBinary) => {
      if (!handler) return;
      // ws hands a Buffer (binaryType 'nodebuffer'); Buffer.from(buffer) would copy every frame once more.
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
      try {
        if (isBinary) handler.handleBinary(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
        else if (handler.handleTextFrame) handler.handleTextFrame(buf);
        else handler.handleText(buf.toString('utf8'));
      } catch (err) {
        // A handler bug must never take the process (or other connections) down.
        this.opts.log.error({ err }, 'connection handler failed');
        ws.close(1011, 'internal error');
      }
      if (buf.byteLength >= yieldAfterBytes && !yielding) {
        // One client's burst of large messages must not hold every other connection's events: after each,
        // this socket stops reading until the event loop has served the others once.
        yielding = true;
        applyPause();
        setImmediate(() => {
          yielding = false;
          applyPause();
        });
      }
    });
    ws.on('error', (err) => this.opts.log.debug({ err }, 'websocket error'));
    ws.on('close', () => {
      this.sockets.delete(ws);
      handler?.dispose();
      handler = null;
    });
    this.pingers.set(ws, () => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    });
  }

  private readonly pingers = new WeakMap<WebSocket, () => void>();

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      for (const ws of this.sockets) this.pingers.get(ws)?.();
    }, this.opts.config.heartbeat_interval_ms);
    this.heartbeat.unref();
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The request target as a URL, or null. An origin-form target is appended to a fixed origin rather than
 * resolved against it: `//` or `//host/x` would otherwise parse as a protocol-relative URL (or throw).
 */
export function parseRequestUrl(target: string | undefined): URL | null {
  const raw = target ?? '/';
  try {
    return raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return null;
  }
}

/** Writes a refusal and closes; a peer that never closes its side is cut off after a second. */
function refuse(socket: Duplex, response: string): void {
  socket.end(response);
  setTimeout(() => socket.destroy(), 1000).unref();
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.write(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
