// Server-sent events as OpenAI streams them: `data: {json}` blocks; an error after the headers went out
// is an `event: error` block (the openai package raises it as an APIError).
import type { ServerResponse } from 'node:http';
import { isEarshotError } from '../errors.ts';

export class SseWriter {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
  }

  data(value: unknown): void {
    if (!this.res.writableEnded) this.res.write(`data: ${JSON.stringify(value)}\n\n`);
  }

  /** The end marker chat completions use (transcription streams end without one, as OpenAI's do). */
  done(): void {
    if (!this.res.writableEnded) this.res.write('data: [DONE]\n\n');
  }

  error(err: unknown): void {
    const e = isEarshotError(err)
      ? { code: err.code, message: err.message, type: 'server_error', param: err.param ?? null }
      : { code: 'E_INTERNAL', message: 'Internal error.', type: 'server_error', param: null };
    if (!this.res.writableEnded) this.res.write(`event: error\ndata: ${JSON.stringify({ error: e })}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
