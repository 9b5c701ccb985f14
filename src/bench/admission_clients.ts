// Clients of `earshot bench server --admission`: sessions arrive one after another (as users do), not all
// at once, so the server's guard can see each arrival's load and refuse the ones it has no room for.
// Every admitted client streams speech at real-time pace from its arrival to the end of the run; a refused
// one records the refusal's HTTP status and error code and does not retry.
import WebSocket from 'ws';
import { float32ToPcm16Bytes } from '../audio/pcm.ts';
import { resample } from '../audio/resample.ts';

export interface AdmissionClientsOptions {
  url: string;
  clients: number;
  seconds: number;
  /** Arrivals spread evenly over this many seconds from the start (at most `seconds`). */
  arriveOverS: number;
  speech16k: Float32Array;
  query?: string;
  /** After the run, how long to wait for the last events before closing, ms. */
  drainMs?: number;
}

export interface AdmissionClientsResult {
  admitted: number;
  refused: number;
  /** Refusals by `${httpStatus} ${code}`. */
  refused_codes: Record<string, number>;
  /** speech_stopped lag of admitted sessions (see ingest_clients.ts), ms. */
  lags_ms: number[];
  utterances: number;
  /** Error events received by admitted sessions, by code. */
  error_codes: Record<string, number>;
  errors: number;
  /** Admitted connections that closed before the end, by close code. */
  closed_early: Record<string, number>;
  clients_cpu_pct?: number;
}

const CHUNK_MS = 20;
const RATE_HZ = 24_000;

interface Admitted {
  ws: WebSocket;
  startMs: number;
  sentAt: number[];
  offsetChunks: number;
}

type Attempt = { ok: true; ws: WebSocket } | { ok: false; key: string };

function connect(url: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        let code = 'unknown';
        try {
          code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? code;
        } catch {
          // not JSON: the status alone
        }
        resolve({ ok: false, key: `${res.statusCode ?? 0} ${code}` });
      });
    });
    ws.once('error', (err) => {
      if (!err.message.includes('Unexpected server response')) resolve({ ok: false, key: `socket ${err.message}` });
    });
    ws.once('open', () => resolve({ ok: true, ws }));
  });
}

export async function runAdmissionClients(opts: AdmissionClientsOptions): Promise<AdmissionClientsResult> {
  const audio = float32ToPcm16Bytes(resample(opts.speech16k, 16_000, RATE_HZ));
  const chunkBytes = (RATE_HZ * CHUNK_MS * 2) / 1000;
  const audioChunks = Math.floor(audio.length / chunkBytes);
  const url = opts.query ? `${opts.url}${opts.url.includes('?') ? '&' : '?'}${opts.query}` : opts.url;
  const result: AdmissionClientsResult = {
    admitted: 0,
    refused: 0,
    refused_codes: {},
    lags_ms: [],
    utterances: 0,
    error_codes: {},
    errors: 0,
    closed_early: {},
  };
  const admitted: Admitted[] = [];
  let finished = false;
  const runStart = performance.now();
  const endMs = runStart + opts.seconds * 1000;
  const gapMs = (Math.min(opts.arriveOverS, opts.seconds) * 1000) / Math.max(1, opts.clients);

  const arrive = async (index: number): Promise<void> => {
    const attempt = await connect(url);
    if (!attempt.ok) {
      result.refused++;
      result.refused_codes[attempt.key] = (result.refused_codes[attempt.key] ?? 0) + 1;
      return;
    }
    result.admitted++;
    const client: Admitted = {
      ws: attempt.ws,
      startMs: performance.now(),
      sentAt: [],
      offsetChunks: Math.floor((index * audioChunks) / Math.max(1, opts.clients)),
    };
    admitted.push(client);
    client.ws.on('message', (data) => {
      const event = JSON.parse(data.toString()) as { type: string; audio_end_ms?: number; error?: { code: string } };
      if (event.type === 'input_audio_buffer.speech_stopped' && event.audio_end_ms !== undefined) {
        const sent = client.sentAt[Math.min(Math.floor(event.audio_end_ms / CHUNK_MS), client.sentAt.length - 1)];
        if (sent !== undefined) result.lags_ms.push(performance.now() - sent);
        result.utterances++;
      } else if (event.type === 'error') {
        result.errors++;
        const code = event.error?.code ?? 'unknown';
        result.error_codes[code] = (result.error_codes[code] ?? 0) + 1;
      }
    });
    client.ws.on('error', () => result.errors++);
    client.ws.on('close', (code) => {
      if (!finished) result.closed_early[code] = (result.closed_early[code] ?? 0) + 1;
    });
  };

  const arrivals: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      while (arrivals.length < opts.clients && now - runStart >= arrivals.length * gapMs)
        arrivals.push(arrive(arrivals.length));
      for (const c of admitted) {
        const due = Math.floor((Math.min(now, endMs) - c.startMs) / CHUNK_MS) + 1;
        while (c.sentAt.length < due && c.ws.readyState === WebSocket.OPEN) {
          const k = (c.offsetChunks + c.sentAt.length) % audioChunks;
          c.ws.send(
            JSON.stringify({
              type: 'input_audio_buffer.append',
              audio: Buffer.from(audio.subarray(k * chunkBytes, (k + 1) * chunkBytes)).toString('base64'),
            }),
          );
          c.sentAt.push(performance.now());
        }
      }
      if (now >= endMs) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(arrivals);
  // The last turns end after silence_duration_ms of silence: let their events arrive.
  await new Promise((r) => setTimeout(r, opts.drainMs ?? 2000));
  finished = true;
  for (const c of admitted) c.ws.close();
  return result;
}
