// A small typed Realtime client for Node (a call center piping calls in, `earshot stream`, tests):
// connects over WebSocket, configures the session, streams audio (a WAV file at real-time pace or as
// fast as the server takes it) and hands out the server's events as async iterators.
//
// WebSocket only: a WebRTC peer in Node would have to send Opus, and no Opus encoder is installed
// (opus-decoder only decodes), so streaming files over WebRTC is left to the browser client.
import WebSocket from 'ws';
import { float32ToPcm16Bytes } from '../src/audio/pcm.ts';
import { readWavFileAs16k } from '../src/audio/wav_input.ts';
import { EarshotError } from '../src/errors.ts';
import type { ClientEvent } from '../src/protocol/client_events.ts';
import type { ServerEvent } from '../src/protocol/server_events.ts';
import type { SessionObject } from '../src/protocol/server_session.ts';
import { sessionUpdateFor, CLIENT_PCM_RATE_HZ, realtimeWebSocketUrl, type SessionSetup } from './core/session_setup.ts';
import { EventQueue } from './event_queue.ts';

export interface NodeClientOptions {
  /** Server URL: `ws(s)://host:port[/v1/realtime]` or `http(s)://host:port`. */
  url: string;
  agent?: string;
  mode?: SessionSetup['mode'];
  language?: string;
  translateTo?: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Time to wait for the socket and `session.created`, ms. */
  connectTimeoutMs?: number;
  /** Send audio as binary PCM16 frames (Earshot extension) instead of base64 `input_audio_buffer.append`. */
  binaryAudio?: boolean;
}

export interface StreamOptions {
  /** Pace the audio like a live call (one chunk per chunk duration); otherwise send as fast as accepted. */
  realtime?: boolean;
  /** Audio per message, ms. 20 ms at real-time pace (like an RTP packetiser), 100 ms otherwise. */
  chunkMs?: number;
  /** Silence appended after the file so the server's VAD closes the last utterance, ms. */
  trailingSilenceMs?: number;
  signal?: AbortSignal;
}

export interface StreamResult {
  /** Audio sent, including the trailing silence, ms. */
  sentMs: number;
  /** Wall-clock time the sending took, ms. */
  elapsedMs: number;
}

/** 10 s is how long a cold server (Silero load) took at most on the 2-core dev box, with margin. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Outbound bytes queued in the socket before the sender waits: ~8 s of 16 kHz PCM16. */
const MAX_BUFFERED_BYTES = 256 * 1024;
/** Long enough for the default 500 ms silence_duration_ms plus one VAD window of slack. */
export const DEFAULT_TRAILING_SILENCE_MS = 1000;

export class EarshotNodeClient {
  session: SessionObject;
  private readonly queues = new Set<EventQueue<ServerEvent>>();
  private readonly listeners = new Set<(event: ServerEvent) => void>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    private readonly ws: WebSocket,
    first: SessionObject,
    private readonly options: NodeClientOptions,
  ) {
    this.session = first;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // Earshot never sends binary; ignore rather than crash a consumer.
      const event = JSON.parse(data.toString()) as ServerEvent;
      if (event.type === 'session.updated' || event.type === 'session.created') this.session = event.session;
      for (const listener of this.listeners) listener(event);
      for (const queue of this.queues) {
        if (queue.isEnded) this.queues.delete(queue);
        else queue.push(event);
      }
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        for (const queue of this.queues) queue.end();
        this.queues.clear();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Opens the socket, waits for `session.created`, then applies the mode's `session.update`. */
  static async connect(options: NodeClientOptions): Promise<EarshotNodeClient> {
    const setup: SessionSetup = {
      agent: options.agent ?? '',
      mode: options.mode ?? 'agent',
      language: options.language,
      translateTo: options.translateTo,
      transport: 'websocket',
    };
    const url = realtimeWebSocketUrl(normaliseBase(options.url), setup);
    const headers: Record<string, string> = options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {};
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let first: SessionObject;
    try {
      first = await new Promise<SessionObject>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no session.created within ${timeoutMs} ms`)), timeoutMs);
        ws.once('error', (err) => (clearTimeout(timer), reject(err)));
        ws.once(
          'unexpected-response',
          (_req, res) => (clearTimeout(timer), reject(new Error(`HTTP ${res.statusCode}`))),
        );
        ws.once(
          'close',
          (code, reason) => (clearTimeout(timer), reject(new Error(`closed ${code} ${reason.toString()}`))),
        );
        ws.on('message', function onFirst(data) {
          const event = JSON.parse(data.toString()) as ServerEvent;
          if (event.type === 'session.created') {
            clearTimeout(timer);
            ws.off('message', onFirst);
            resolve(event.session);
          } else if (event.type === 'error') {
            clearTimeout(timer);
            reject(new Error(`${event.error.code}: ${event.error.message}`));
          }
        });
      });
    } catch (err) {
      ws.terminate();
      throw new EarshotError(
        'E_CONNECT_FAILED',
        `Could not open a Realtime session at ${url}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    ws.removeAllListeners('error');
    ws.removeAllListeners('close');
    ws.on('error', () => {}); // surfaced through `closed`
    const client = new EarshotNodeClient(ws, first, options);
    const updated = client.waitFor((e) => e.type === 'session.updated' || e.type === 'error', timeoutMs);
    client.send(sessionUpdateFor(setup));
    const reply = await updated;
    if (reply.type === 'error') {
      await client.close();
      throw new EarshotError(
        'E_CONNECT_FAILED',
        `The server refused the session settings: ${reply.error.code}: ${reply.error.message}`,
      );
    }
    return client;
  }

  /** Every event from now on, until the connection closes. Each call gets its own queue. */
  events(): AsyncIterableIterator<ServerEvent> {
    const queue = new EventQueue<ServerEvent>();
    if (this.ws.readyState === WebSocket.CLOSED) queue.end();
    else this.queues.add(queue);
    return queue;
  }

  /** Calls `listener` synchronously for each event; returns the unsubscribe function. */
  onEvent(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next event matching `predicate` (not one already received). */
  waitFor<T extends ServerEvent>(predicate: (e: ServerEvent) => e is T, timeoutMs?: number): Promise<T>;
  waitFor(predicate: (e: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  waitFor(predicate: (e: ServerEvent) => boolean, timeoutMs = 10_000): Promise<ServerEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new Error(`no matching event within ${timeoutMs} ms`))), timeoutMs);
      const off = this.onEvent((event) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  send(event: ClientEvent): void {
    this.ws.send(JSON.stringify(event));
  }

  /** PCM16 little-endian at the session's rate (16 kHz after connect()). */
  sendPcm16(bytes: Uint8Array): void {
    if (this.options.binaryAudio === false) {
      this.send({
        type: 'input_audio_buffer.append',
        audio: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      });
    } else {
      this.ws.send(bytes);
    }
  }

  /** Streams 16 kHz mono samples; see StreamOptions for pacing. */
  async streamSamples(samples16k: Float32Array, options: StreamOptions = {}): Promise<StreamResult> {
    const realtime = options.realtime ?? false;
    const chunkMs = options.chunkMs ?? (realtime ? 20 : 100);
    const chunkSamples = Math.max(1, Math.round((chunkMs * CLIENT_PCM_RATE_HZ) / 1000));
    const silence = new Float32Array(
      Math.round(((options.trailingSilenceMs ?? DEFAULT_TRAILING_SILENCE_MS) * CLIENT_PCM_RATE_HZ) / 1000),
    );
    const all = new Float32Array(samples16k.length + silence.length);
    all.set(samples16k);
    const startedAt = performance.now();
    for (let offset = 0, index = 0; offset < all.length; offset += chunkSamples, index++) {
      if (options.signal?.aborted) throw new EarshotError('E_ABORTED', 'Streaming was cancelled.');
      if (this.ws.readyState !== WebSocket.OPEN)
        throw new EarshotError('E_CONNECT_FAILED', 'The connection closed while streaming.');
      if (realtime) {
        // Scheduled against the start time, not the previous send, so timer jitter does not accumulate.
        const dueMs = (index * chunkSamples * 1000) / CLIENT_PCM_RATE_HZ - (performance.now() - startedAt);
        if (dueMs > 1) await sleep(dueMs);
      } else {
        while (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) await sleep(5);
      }
      this.sendPcm16(float32ToPcm16Bytes(all.subarray(offset, offset + chunkSamples)));
    }
    return { sentMs: (all.length * 1000) / CLIENT_PCM_RATE_HZ, elapsedMs: performance.now() - startedAt };
  }

  /**
   * Waits until the server has run turn detection over every sample sent so far, however far behind a
   * loaded server is: `input_audio_buffer.clear` passes through the server's audio pipeline in order, so
   * its `input_audio_buffer.cleared` comes after every speech_stopped and commit of the audio before it.
   * Call it after the trailing silence: the clear then drops only audio no utterance holds (an utterance
   * still open at that point would never have ended). Resolves false if no `cleared` came within timeoutMs.
   */
  async awaitInputProcessed(timeoutMs = 10_000): Promise<boolean> {
    const cleared = this.waitFor((e) => e.type === 'input_audio_buffer.cleared', timeoutMs);
    this.send({ type: 'input_audio_buffer.clear' });
    return cleared.then(
      () => true,
      () => false,
    );
  }

  /** Reads a WAV file (any rate, mono or stereo), brings it to 16 kHz mono and streams it. */
  async streamWavFile(path: string, options: StreamOptions = {}): Promise<StreamResult & { fileMs: number }> {
    const samples16k = await loadWav16k(path);
    const result = await this.streamSamples(samples16k, options);
    return { ...result, fileMs: (samples16k.length * 1000) / CLIENT_PCM_RATE_HZ };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(1000, 'client done');
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** A WAV file as 16 kHz mono (the client's PCM rate), read as the server's pipeline reads it. */
export async function loadWav16k(path: string): Promise<Float32Array> {
  return (await readWavFileAs16k(path)).samples16k;
}

/** Accepts the server's printed `ws://…/v1/realtime` URL as well as a bare `http://host:port`. */
function normaliseBase(url: string): string {
  return /^[a-z]+:\/\//i.test(url) ? url : `ws://${url}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
