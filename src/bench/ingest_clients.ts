import WebSocket from 'ws';
import { float32ToPcm16Bytes } from '../audio/pcm.ts';
import { resample } from '../audio/resample.ts';

export interface IngestClientsOptions {
  url: string;
  clients: number;
  seconds: number;
  speech16k: Float32Array;
  /** 20 ms chunks of 24 kHz PCM16, as the issue specifies. */
  chunkMs?: number;
}

export interface IngestClientsResult {
  lags_ms: number[];
  errors: number;
  error_codes: Record<string, number>;
  utterances: number;
  connected: number;
  chunks_sent: number;
}

const RATE_HZ = 24_000;

/**
 * N Realtime clients streaming speech at real-time pace. For each speech_stopped, the lag is the time
 * from sending the chunk that holds its audio_end_ms (speech end + silence_duration_ms, in audio time)
 * to receiving the event: the extra delay the server adds beyond what turn detection must wait for.
 */
export async function runIngestClients(opts: IngestClientsOptions): Promise<IngestClientsResult> {
  const chunkMs = opts.chunkMs ?? 20;
  const audio = float32ToPcm16Bytes(resample(opts.speech16k, 16_000, RATE_HZ));
  const chunkBytes = (RATE_HZ * chunkMs * 2) / 1000;
  const totalChunks = Math.floor((opts.seconds * 1000) / chunkMs);
  const audioChunks = Math.floor(audio.length / chunkBytes);
  const result: IngestClientsResult = { lags_ms: [], errors: 0, error_codes: {}, utterances: 0, connected: 0, chunks_sent: 0 };

  const clients = await Promise.all(
    Array.from({ length: opts.clients }, async (_, index) => {
      const ws = new WebSocket(opts.url);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      result.connected++;
      const sentAt: number[] = [];
      ws.on('message', (data) => {
        const event = JSON.parse(data.toString()) as { type: string; audio_end_ms?: number; error?: { code: string } };
        if (event.type === 'input_audio_buffer.speech_stopped' && event.audio_end_ms !== undefined) {
          const chunk = Math.floor(event.audio_end_ms / chunkMs);
          const sent = sentAt[Math.min(chunk, sentAt.length - 1)];
          if (sent !== undefined) result.lags_ms.push(performance.now() - sent);
          result.utterances++;
        } else if (event.type === 'error') {
          result.errors++;
          const code = event.error?.code ?? 'unknown';
          result.error_codes[code] = (result.error_codes[code] ?? 0) + 1;
        }
      });
      ws.on('error', () => result.errors++);
      // Each client starts at a different place in the speech so turns do not all end together.
      const offsetChunks = Math.floor((index * audioChunks) / Math.max(1, opts.clients));
      return { ws, sentAt, offsetChunks };
    }),
  );

  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(totalChunks, Math.floor((performance.now() - start) / chunkMs) + 1);
      for (const c of clients) {
        while (c.sentAt.length < due) {
          const k = (c.offsetChunks + c.sentAt.length) % audioChunks;
          const chunk = audio.subarray(k * chunkBytes, (k + 1) * chunkBytes);
          c.ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.from(chunk).toString('base64') }));
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
  // Let the last events arrive, then close.
  await new Promise((r) => setTimeout(r, 1500));
  for (const c of clients) c.ws.close();
  return result;
}
