// A loopback stand-in for an OpenAI-compatible POST /v1/audio/speech server (Kokoro-FastAPI, OpenAI) that
// streams its 24 kHz s16le answer slowly, in odd-sized pieces, and records what it saw: request bodies,
// when each response started and finished, and which ones the client aborted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpeechRequestLog {
  body: Record<string, unknown>;
  authorization: string | undefined;
  startedAtMs: number;
  firstPieceAtMs: number | null;
  finishedAtMs: number | null;
  abortedAtMs: number | null;
  bytesSent: number;
}

export interface FakeSpeechServerOptions {
  /** Samples of a 24 kHz tone per input character. */
  samplesPerChar?: number;
  /** Pieces the body is sent in, and the pause between them. */
  pieces?: number;
  pieceGapMs?: number;
  /** Answer every request with this status and JSON error instead of audio. */
  failWith?: { status: number; message: string };
  /** Wait this long before sending the headers. */
  headerDelayMs?: number;
  /** Send one piece, then stall forever. */
  stallAfterFirstPiece?: boolean;
}

export interface FakeSpeechServer {
  baseUrl: string;
  requests: SpeechRequestLog[];
  close(): Promise<void>;
}

function tone(samples: number): Buffer {
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++)
    out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 24_000)), i * 2);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  options: FakeSpeechServerOptions,
  log: SpeechRequestLog[],
): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  const entry: SpeechRequestLog = {
    body: JSON.parse(raw),
    authorization: req.headers.authorization,
    startedAtMs: Date.now(),
    firstPieceAtMs: null,
    finishedAtMs: null,
    abortedAtMs: null,
    bytesSent: 0,
  };
  log.push(entry);
  res.on('close', () => {
    if (!res.writableFinished) entry.abortedAtMs = Date.now();
  });
  if (options.headerDelayMs) await sleep(options.headerDelayMs);
  if (options.failWith) {
    res.writeHead(options.failWith.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: options.failWith.message } }));
    return;
  }
  res.writeHead(200, { 'content-type': 'audio/pcm' });
  const audio = tone(String(entry.body.input).length * (options.samplesPerChar ?? 240));
  const pieces = options.pieces ?? 5;
  const size = Math.ceil(audio.length / pieces) | 1; // odd: samples straddle the pieces
  for (let at = 0; at < audio.length && !res.destroyed; at += size) {
    res.write(audio.subarray(at, at + size));
    entry.firstPieceAtMs ??= Date.now();
    entry.bytesSent += Math.min(size, audio.length - at);
    if (options.stallAfterFirstPiece) return;
    await sleep(options.pieceGapMs ?? 20);
  }
  if (!res.destroyed)
    res.end(() => {
      entry.finishedAtMs = Date.now();
    });
}

export async function startFakeSpeechServer(options: FakeSpeechServerOptions = {}): Promise<FakeSpeechServer> {
  const requests: SpeechRequestLog[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/audio/speech') {
      res.writeHead(404).end();
      return;
    }
    void answer(req, res, options, requests).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
