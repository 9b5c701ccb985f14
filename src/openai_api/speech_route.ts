// POST /v1/audio/speech (OpenAI's text-to-speech API) on Earshot's voice engine: the input goes through the
// same SpeechStream as a spoken answer (sentences synthesised ahead, markdown not read aloud) and the audio
// is streamed as it is produced, chunked, or as server-sent events with stream_format "sse". The client
// going away cancels the stream, which kills the engine's work (espeak-ng's process, a remote request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { EarshotError } from '../errors.ts';
import { methodNotAllowed } from '../transport/http_routes/http_util.ts';
import type { HttpRoute } from '../transport/ws_server.ts';
import { openSpeechStream } from '../tts/index.ts';
import { serveAdmitted, type OpenAiApiDeps } from './api_context.ts';
import { readBodyBounded } from './request_body.ts';
import { SseWriter } from './sse.ts';
import { chooseSpeechFormat, CONTENT_TYPES, encodeSpeech, type SpeechResponseFormat } from './speech_formats.ts';

const PATH = '/v1/audio/speech';
const JSON_OVERHEAD_BYTES = 16 * 1024; // the other fields around `input`
const UTF8_MAX_BYTES_PER_CHAR = 4;

const speechBody = z.object({
  model: z.string().max(128).optional(),
  input: z.string().min(1),
  voice: z.union([z.string().min(1).max(64), z.object({ id: z.string().min(1).max(64) })]),
  response_format: z.string().max(16).optional(),
  speed: z.number().min(0.25).max(4).optional(),
  stream_format: z.enum(['audio', 'sse']).optional(),
  instructions: z.string().max(4096).optional(), // gpt-4o-mini-tts style prompts: accepted, not used by these engines
});

export function createSpeechRoute(deps: OpenAiApiDeps): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname.replace(/\/$/, '') !== PATH) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return true;
    }
    await serveAdmitted(deps, 'speech', req, res, (call) => handleSpeech(deps, req, res, call.signal));
    return true;
  };
}

interface SpeechParams {
  input: string;
  voice: string;
  speed: number;
  format: SpeechResponseFormat;
  sse: boolean;
}

async function readParams(deps: OpenAiApiDeps, req: IncomingMessage): Promise<SpeechParams> {
  const maxChars = deps.config.tts.max_input_chars;
  const raw = await readBodyBounded(
    req,
    maxChars * UTF8_MAX_BYTES_PER_CHAR + JSON_OVERHEAD_BYTES,
    'speech request body',
  );
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new EarshotError('E_INVALID_JSON', 'The body must be a JSON object.');
  }
  const parsed = speechBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EarshotError('E_INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`, {
      param: String(issue.path[0] ?? '') || undefined,
    });
  }
  const body = parsed.data;
  if (body.input.length > maxChars) {
    throw new EarshotError(
      'E_TEXT_TOO_LARGE',
      `input has ${body.input.length} characters; the limit is ${maxChars} (tts.max_input_chars).`,
      { param: 'input' },
    );
  }
  const format = await chooseSpeechFormat(body.response_format);
  return {
    input: body.input,
    voice: typeof body.voice === 'string' ? body.voice : body.voice.id,
    speed: body.speed ?? 1,
    format,
    sse: body.stream_format === 'sse',
  };
}

async function handleSpeech(
  deps: OpenAiApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const params = await readParams(deps, req);
  const voiceEngine = deps.voiceEngine;
  const synthesizer = voiceEngine?.synthesizer;
  if (!synthesizer)
    throw voiceEngine?.unavailable ?? new EarshotError('E_TTS_UNAVAILABLE', 'This server has no voice engine.');
  const stream = openSpeechStream(synthesizer, deps.config.tts, { voice: params.voice, speed: params.speed });
  const cancel = () => stream.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  stream.push(params.input);
  stream.end();
  let sse: SseWriter | null = null;
  const startResponse = () => {
    if (params.sse) sse ??= new SseWriter(res);
    else if (!res.headersSent)
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[params.format],
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
  };
  try {
    // Headers go out with the first audio, so a failure before it (unknown voice, engine down) is a JSON error.
    for await (const bytes of encodeSpeech(stream.audio, params.format)) {
      if (signal.aborted) return;
      startResponse();
      if (sse) (sse as SseWriter).data({ type: 'speech.audio.delta', audio: Buffer.from(bytes).toString('base64') });
      else if (!res.write(bytes)) await drained(res);
    }
    if (signal.aborted) return;
    startResponse();
    if (sse) {
      (sse as SseWriter).data({ type: 'speech.audio.done' }); // no usage: these engines count no tokens
      (sse as SseWriter).end();
    } else res.end();
  } catch (err) {
    if (sse) {
      (sse as SseWriter).error(err);
      (sse as SseWriter).end();
      return;
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', cancel);
    stream.cancel();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
