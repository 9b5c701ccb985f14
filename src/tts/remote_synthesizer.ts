// Any OpenAI-compatible speech endpoint (Kokoro-FastAPI, vLLM-Omni, OpenAI itself): one
// POST {base}/audio/speech per sentence with response_format "pcm", whose body streams 24 kHz s16le mono.
// Pipelining (sentence n+1 requested while n plays) comes from SpeechStream; this class only streams one
// request and aborts it on cancel or when the server stalls.
import { EarshotError } from '../errors.ts';
import type { TtsRemoteConfig } from '../config/tts_schema.ts';
import { OPENAI_VOICE_NAMES } from '../config/tts_schema.ts';
import type { PcmChunk, SynthesisRequest, Synthesizer } from './synthesizer.ts';

/** OpenAI's `pcm` response format: 24 kHz, 16-bit signed little-endian, mono. */
export const REMOTE_PCM_RATE_HZ = 24_000;
const ERROR_BODY_KEEP_CHARS = 300;

export interface RemoteSynthesizerOptions extends TtsRemoteConfig {
  url: string;
  maxInputChars: number;
}

/** {base}/audio/speech, whether or not the base ends with a slash (base usually ends in /v1). */
export function speechEndpoint(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/audio/speech`;
}

export class RemoteSynthesizer implements Synthesizer {
  readonly name = 'remote' as const;
  private readonly options: RemoteSynthesizerOptions;
  private readonly inFlight = new Set<AbortController>();

  constructor(options: RemoteSynthesizerOptions) {
    this.options = options;
  }

  /** Requests whose audio is still streaming. */
  get activeRequests(): number {
    return this.inFlight.size;
  }

  voices(): readonly string[] {
    return OPENAI_VOICE_NAMES; // the server may accept more; it answers an unknown voice with an HTTP error
  }

  async *synthesize(request: SynthesisRequest): AsyncGenerator<PcmChunk> {
    if (request.text.length > this.options.maxInputChars) {
      throw new EarshotError(
        'E_TEXT_TOO_LARGE',
        `The text to speak has ${request.text.length} characters; the limit is ${this.options.maxInputChars} (tts.max_input_chars).`,
        { param: 'input' },
      );
    }
    if (request.signal.aborted || request.text.trim() === '') return;
    const controller = new AbortController();
    const stop = () => controller.abort();
    request.signal.addEventListener('abort', stop, { once: true });
    this.inFlight.add(controller);
    const watchdog = new Watchdog(controller);
    try {
      watchdog.arm(this.options.request_timeout_ms, 'headers');
      const response = await this.post(request, controller.signal).catch((err: unknown) => {
        throw this.failure(request, watchdog, err);
      });
      if (response === null) return;
      if (!response.ok) throw await httpFailure(response);
      if (!response.body) throw new EarshotError('E_TTS_REMOTE', 'The speech server answered without a body.');
      watchdog.arm(this.options.stream_idle_timeout_ms, 'idle');
      try {
        yield* pcmChunks(response.body, () => watchdog.arm(this.options.stream_idle_timeout_ms, 'idle'));
      } catch (err) {
        throw this.failure(request, watchdog, err);
      }
      if (watchdog.fired && !request.signal.aborted) throw this.failure(request, watchdog, null);
    } catch (err) {
      if (request.signal.aborted) return; // cancelled: the audio just ends
      throw err;
    } finally {
      watchdog.disarm();
      request.signal.removeEventListener('abort', stop);
      controller.abort(); // releases the socket if the consumer stopped early
      this.inFlight.delete(controller);
    }
  }

  async close(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  private async post(request: SynthesisRequest, signal: AbortSignal): Promise<Response | null> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.api_key) headers.authorization = `Bearer ${this.options.api_key}`;
    const body = JSON.stringify({
      model: this.options.model,
      input: request.text,
      voice: request.voice,
      response_format: 'pcm',
      speed: request.speed,
    });
    try {
      return await fetch(speechEndpoint(this.options.url), { method: 'POST', headers, body, signal });
    } catch (err) {
      if (request.signal.aborted) return null;
      throw err;
    }
  }

  private failure(request: SynthesisRequest, watchdog: Watchdog, err: unknown): unknown {
    if (request.signal.aborted || err instanceof EarshotError) return err;
    if (watchdog.fired === 'headers') {
      return new EarshotError(
        'E_TTS_REMOTE',
        `The speech server did not answer within tts.remote.request_timeout_ms (${this.options.request_timeout_ms} ms).`,
        { retryable: true },
      );
    }
    if (watchdog.fired === 'idle') {
      return new EarshotError(
        'E_TTS_REMOTE',
        `The speech server sent no audio for tts.remote.stream_idle_timeout_ms (${this.options.stream_idle_timeout_ms} ms).`,
        { retryable: true },
      );
    }
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return new EarshotError(
      'E_TTS_REMOTE',
      `The speech server at ${this.options.url} could not be reached: ${reason}`,
      { retryable: true, cause: err },
    );
  }
}

/** Aborts the request when a phase (waiting for headers, or for the next chunk) lasts too long. */
class Watchdog {
  fired: 'headers' | 'idle' | null = null;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly controller: AbortController) {}
  arm(ms: number, phase: 'headers' | 'idle'): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.fired = phase;
      this.controller.abort();
    }, ms);
  }
  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

async function httpFailure(response: Response): Promise<EarshotError> {
  const text = (await response.text().catch(() => '')).slice(0, ERROR_BODY_KEEP_CHARS);
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } | string; detail?: unknown };
    const inner = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
    message = inner ?? (parsed.detail !== undefined ? JSON.stringify(parsed.detail) : text);
  } catch {
    /* not JSON: keep the text */
  }
  const retryable = response.status === 429 || response.status >= 500;
  return new EarshotError(
    'E_TTS_REMOTE',
    `The speech server answered HTTP ${response.status}: ${message || response.statusText}`,
    { retryable },
  );
}

/** The body's bytes as whole s16le samples (an odd byte waits for the next chunk). */
async function* pcmChunks(body: ReadableStream<Uint8Array>, onChunk: () => void): AsyncGenerator<PcmChunk> {
  let carry: Uint8Array | null = null;
  for await (const piece of body as unknown as AsyncIterable<Uint8Array>) {
    onChunk();
    let bytes = piece;
    if (carry) {
      bytes = Buffer.concat([carry, bytes]);
      carry = null;
    }
    const whole = bytes.length & ~1;
    if (whole < bytes.length) carry = bytes.slice(whole);
    if (whole === 0) continue;
    const pcm = new Int16Array(whole / 2);
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole);
    for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(i * 2, true);
    yield { pcm, sampleRateHz: REMOTE_PCM_RATE_HZ };
  }
}
