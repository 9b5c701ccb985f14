import WebSocket from 'ws';
import { float32ToPcm16Bytes } from '../audio/pcm.ts';
import { resample } from '../audio/resample.ts';

export interface IngestClientsOptions {
  url: string;
  clients: number;
  seconds: number;
  speech16k: Float32Array;
  /** Chunk length in ms (default 20). */
  chunkMs?: number;
  /**
   * How audio travels: `pcm24-json` (default) is what the OpenAI SDKs send, 24 kHz PCM16 in base64
   * `input_audio_buffer.append` events; `pcm16-binary` is 16 kHz PCM16 in binary WebSocket frames after a
   * session.update (Earshot's native rate: no resampling, no base64, no JSON per chunk).
   */
  format?: ClientAudioFormat;
  /** Query string added to the URL (e.g. `intent=transcription`). */
  query?: string;
  /** Extra connection headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** After streaming, how long to wait for the last events before closing (default 1.5 s). */
  drainMs?: number;
  /** Stop waiting early once every committed utterance has its transcript (bench server). */
  waitForTranscripts?: boolean;
}

export interface IngestClientsResult {
  lags_ms: number[];
  errors: number;
  error_codes: Record<string, number>;
  utterances: number;
  connected: number;
  chunks_sent: number;
  /** input_audio_buffer.committed events, and transcripts (completed or failed) of them. */
  committed: number;
  transcribed: number;
  transcription_failed: number;
  /** From each commit to its transcript's completed event, in ms. */
  asr_ms: number[];
  /** Connections that closed before the end, by close code. */
  closed_early: Record<string, number>;
  /** CPU the clients' own process used over its run (user + system, % of one core). */
  clients_cpu_pct?: number;
}

export type ClientAudioFormat = 'pcm24-json' | 'pcm16-binary';
export const CLIENT_AUDIO_FORMATS: readonly ClientAudioFormat[] = ['pcm24-json', 'pcm16-binary'];

/** What every client of one run shares: the audio, its pacing, and the counters they all add to. */
interface IngestRun {
  opts: IngestClientsOptions;
  result: IngestClientsResult;
  url: string;
  binary: boolean;
  chunkMs: number;
  audio: Uint8Array;
  chunkBytes: number;
  totalChunks: number;
  audioChunks: number;
  /** Set before the run closes its own connections, so those closes are not counted as early. */
  finished: boolean;
}

interface IngestClient {
  ws: WebSocket;
  /** When each chunk was sent (performance.now()), by chunk index. */
  sentAt: number[];
  offsetChunks: number;
}

interface ServerEvent {
  type: string;
  audio_end_ms?: number;
  item_id?: string;
  error?: { code: string };
}

/**
 * N Realtime clients streaming speech at real-time pace. For each speech_stopped, the lag is the time
 * from sending the chunk that holds its audio_end_ms (speech end + silence_duration_ms, in audio time)
 * to receiving the event: the extra delay the server adds beyond what turn detection must wait for.
 */
export async function runIngestClients(opts: IngestClientsOptions): Promise<IngestClientsResult> {
  const chunkMs = opts.chunkMs ?? 20;
  const binary = opts.format === 'pcm16-binary';
  const rateHz = binary ? 16_000 : 24_000;
  const audio = float32ToPcm16Bytes(binary ? opts.speech16k : resample(opts.speech16k, 16_000, rateHz));
  const chunkBytes = (rateHz * chunkMs * 2) / 1000;
  const run: IngestRun = {
    opts,
    result: {
      lags_ms: [],
      errors: 0,
      error_codes: {},
      utterances: 0,
      connected: 0,
      chunks_sent: 0,
      committed: 0,
      transcribed: 0,
      transcription_failed: 0,
      asr_ms: [],
      closed_early: {},
    },
    url: opts.query ? `${opts.url}${opts.url.includes('?') ? '&' : '?'}${opts.query}` : opts.url,
    binary,
    chunkMs,
    audio,
    chunkBytes,
    totalChunks: Math.floor((opts.seconds * 1000) / chunkMs),
    audioChunks: Math.floor(audio.length / chunkBytes),
    finished: false,
  };

  const clients = await Promise.all(Array.from({ length: opts.clients }, (_, index) => connectClient(run, index)));
  await streamAtRealTimePace(run, clients);
  await waitForLastEvents(run);
  run.finished = true;
  for (const c of clients) c.ws.close();
  return run.result;
}

/** Opens one client's connection (binary clients declare their format) and wires its event counting. */
async function connectClient(run: IngestRun, index: number): Promise<IngestClient> {
  const { opts, result } = run;
  const ws = new WebSocket(run.url, { headers: opts.headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  result.connected++;
  if (run.binary)
    ws.send(
      JSON.stringify({
        type: 'session.update',
        session: { audio: { input: { format: { type: 'audio/pcm', rate: 16_000 } } } },
      }),
    );
  const sentAt: number[] = [];
  const committedAt = new Map<string, number>();
  ws.on('message', (data) => {
    recordServerEvent(run, JSON.parse(data.toString()) as ServerEvent, sentAt, committedAt);
  });
  ws.on('error', () => result.errors++);
  ws.on('close', (code) => {
    if (!run.finished) result.closed_early[code] = (result.closed_early[code] ?? 0) + 1;
  });
  // Each client starts at a different place in the speech so turns do not all end together.
  const offsetChunks = Math.floor((index * run.audioChunks) / Math.max(1, opts.clients));
  return { ws, sentAt, offsetChunks };
}

/** Counts one server event into the run's result: commits, transcripts, turn-end lags and errors. */
function recordServerEvent(
  run: IngestRun,
  event: ServerEvent,
  sentAt: number[],
  committedAt: Map<string, number>,
): void {
  const { result } = run;
  if (event.type === 'input_audio_buffer.committed' && event.item_id) {
    result.committed++;
    committedAt.set(event.item_id, performance.now());
  } else if (event.type === 'conversation.item.input_audio_transcription.completed' && event.item_id) {
    result.transcribed++;
    const t = committedAt.get(event.item_id);
    if (t !== undefined) result.asr_ms.push(performance.now() - t);
    committedAt.delete(event.item_id);
  } else if (event.type === 'conversation.item.input_audio_transcription.failed') {
    result.transcription_failed++;
  }
  if (event.type === 'input_audio_buffer.speech_stopped' && event.audio_end_ms !== undefined) {
    const chunk = Math.floor(event.audio_end_ms / run.chunkMs);
    const sent = sentAt[Math.min(chunk, sentAt.length - 1)];
    if (sent !== undefined) result.lags_ms.push(performance.now() - sent);
    result.utterances++;
  } else if (event.type === 'error') {
    result.errors++;
    const code = event.error?.code ?? 'unknown';
    result.error_codes[code] = (result.error_codes[code] ?? 0) + 1;
  }
}

/** Sends every client's chunks as they fall due (checked every 5 ms) until totalChunks each are sent. */
async function streamAtRealTimePace(run: IngestRun, clients: IngestClient[]): Promise<void> {
  const { audio, chunkBytes, audioChunks, totalChunks, chunkMs, result } = run;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(totalChunks, Math.floor((performance.now() - start) / chunkMs) + 1);
      for (const c of clients) {
        while (c.sentAt.length < due) {
          const k = (c.offsetChunks + c.sentAt.length) % audioChunks;
          const chunk = audio.subarray(k * chunkBytes, (k + 1) * chunkBytes);
          if (run.binary) c.ws.send(chunk);
          else
            c.ws.send(
              JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.from(chunk).toString('base64') }),
            );
          c.sentAt.push(performance.now());
          result.chunks_sent++;
        }
      }
      if (due >= totalChunks) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
}

/** Lets the last events arrive before the connections close. */
async function waitForLastEvents(run: IngestRun): Promise<void> {
  const { opts, result } = run;
  const drainStart = performance.now();
  const drainMs = opts.drainMs ?? 1500;
  for (let waited = 0; waited < drainMs; waited = performance.now() - drainStart) {
    // At least 1.5 s for the last turn to end (silence_duration_ms), then only until every commit has its transcript.
    if (
      opts.waitForTranscripts &&
      waited >= 1500 &&
      result.transcribed + result.transcription_failed >= result.committed
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
}
