// The HTTP side of the remote engine: one streaming chat-completions request with a time limit on the
// response headers and on each gap between chunks, bounded retries while nothing has streamed yet, and
// every failure as E_ENGINE_REMOTE (retryable where a retry is safe).
import type { RemoteEngineConfig } from '../../config/remote_engine_schema.ts';
import { EarshotError } from '../../errors.ts';

export interface ChatChunk {
  choices?: {
    delta?: {
      content?: string | null;
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function remoteError(message: string, retryable: boolean, cause?: unknown): EarshotError {
  return new EarshotError('E_ENGINE_REMOTE', message, { retryable, ...(cause === undefined ? {} : { cause }) });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Sends the request (retrying before the headers), then yields the parsed SSE chunks. */
export async function* streamChatCompletion(
  cfg: RemoteEngineConfig,
  body: unknown,
  signal: AbortSignal,
): AsyncGenerator<ChatChunk> {
  const res = await openStream(cfg, body, signal);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await readWithIdleLimit(reader, cfg.stream_idle_timeout_ms, signal);
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const chunk = parseSseBlock(block);
        if (chunk === 'done') return;
        if (chunk) yield chunk;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

function parseSseBlock(block: string): ChatChunk | 'done' | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  if (text === '[DONE]') return 'done';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw remoteError('The remote engine sent an unreadable stream chunk.', false);
  }
  const error = (json as { error?: { message?: string; code?: string } }).error;
  if (event === 'error' || error)
    throw remoteError(
      `The remote engine failed mid-stream: ${error?.code ?? ''} ${error?.message ?? ''}`.trim(),
      false,
    );
  return json as ChatChunk;
}

async function readWithIdleLimit(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  idleMs: number,
  signal: AbortSignal,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          remoteError(`The remote engine sent nothing for ${idleMs} ms (engine.remote.stream_idle_timeout_ms).`, false),
        ),
      idleMs,
    );
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? new EarshotError('E_ABORTED');
    if (err instanceof EarshotError) throw err;
    throw remoteError(`The remote engine's stream broke: ${(err as Error).message}`, false, err);
  } finally {
    clearTimeout(timer);
  }
}

async function openStream(cfg: RemoteEngineConfig, body: unknown, signal: AbortSignal): Promise<Response> {
  const url = `${cfg.url!.replace(/\/+$/, '')}/v1/chat/completions`;
  const payload = JSON.stringify(body);
  let backoff = cfg.retry_backoff_ms;
  for (let attempt = 0; ; attempt++) {
    try {
      return await openOnce(url, cfg, payload, signal);
    } catch (err) {
      const retryable = err instanceof EarshotError && err.retryable;
      if (signal.aborted || !retryable || attempt >= cfg.max_retries) throw err;
      await sleep(backoff, signal);
      backoff *= 2;
      if (signal.aborted) throw signal.reason ?? new EarshotError('E_ABORTED');
    }
  }
}

async function openOnce(url: string, cfg: RemoteEngineConfig, payload: string, signal: AbortSignal): Promise<Response> {
  const headersTimeout = new AbortController();
  const timer = setTimeout(() => headersTimeout.abort(), cfg.request_timeout_ms);
  const combined = AbortSignal.any([signal, headersTimeout.signal]);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(cfg.api_key ? { authorization: `Bearer ${cfg.api_key}` } : {}),
      },
      body: payload,
      signal: combined,
    });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      let detail = text.slice(0, 300);
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (e) detail = `${e.code ?? ''} ${e.message ?? ''}`.trim();
      } catch {
        // not JSON: the raw text is the detail
      }
      throw remoteError(`The remote engine answered HTTP ${res.status}: ${detail}`, RETRYABLE_STATUS.has(res.status));
    }
    return res;
  } catch (err) {
    if (err instanceof EarshotError) throw err;
    if (signal.aborted) throw signal.reason ?? new EarshotError('E_ABORTED');
    if (headersTimeout.signal.aborted)
      throw remoteError(
        `The remote engine did not answer within ${cfg.request_timeout_ms} ms (engine.remote.request_timeout_ms).`,
        true,
      );
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw remoteError(`The remote engine at ${cfg.url} cannot be reached${cause ? ` (${cause})` : ''}.`, true, err);
  } finally {
    clearTimeout(timer);
  }
}
