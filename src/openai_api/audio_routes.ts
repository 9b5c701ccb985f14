// POST /v1/audio/transcriptions and /v1/audio/translations (OpenAI's multipart API, Whisper's fields).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeUploadAs16k } from '../audio/audio_file.ts';
import { EarshotError } from '../errors.ts';
import { methodNotAllowed, sendText } from '../transport/http_routes/http_util.ts';
import type { HttpRoute } from '../transport/ws_server.ts';
import { serveApiCall, type ApiCall, type OpenAiApiDeps } from './api_context.ts';
import { readUploadForm, type UploadForm } from './request_body.ts';
import { SseWriter } from './sse.ts';
import { formatTranscription, RESPONSE_FORMATS, usageJson, type ResponseFormat } from './transcription_formats.ts';
import { runTranscription, type AudioTask } from './transcription_runner.ts';

const PATHS: Record<string, AudioTask> = {
  '/v1/audio/transcriptions': 'transcribe',
  '/v1/audio/translations': 'translate',
};
const MAX_FIELD_CHARS = 4096;

interface AudioParams {
  model: string;
  language?: string;
  prompt?: string;
  format: ResponseFormat;
  stream: boolean;
}

export function createAudioRoutes(deps: OpenAiApiDeps): HttpRoute {
  return async (req, res, url) => {
    const task = PATHS[url.pathname.replace(/\/$/, '')];
    if (!task) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return true;
    }
    await serveApiCall(deps, task === 'transcribe' ? 'transcriptions' : 'translations', req, res, (call) =>
      handleAudio(deps, task, req, res, call),
    );
    return true;
  };
}

async function handleAudio(
  deps: OpenAiApiDeps,
  task: AudioTask,
  req: IncomingMessage,
  res: ServerResponse,
  call: ApiCall,
): Promise<void> {
  const limits = deps.config.openai_api;
  const form = await readUploadForm(req, limits.max_upload_bytes);
  const params = audioParams(form, task);
  const audio = await decodeUploadAs16k(form.file.bytes);
  const durationMs = (audio.samples16k.length * 1000) / 16000;
  if (durationMs > limits.max_audio_duration_ms) {
    throw new EarshotError(
      'E_AUDIO_TOO_LONG',
      `The audio lasts ${Math.round(durationMs / 1000)} s; the limit is ${limits.max_audio_duration_ms / 1000} s (openai_api.max_audio_duration_ms).`,
      { param: 'file' },
    );
  }
  const sse = params.stream ? new SseWriter(res) : null;
  try {
    const result = await runTranscription(call.engine, {
      task,
      audio,
      language: params.language,
      prompt: params.prompt,
      maxTokensPerSegment: deps.config.agent.caption_max_tokens,
      vad: deps.config.vad,
      openVadStream: deps.openVadStream,
      signal: call.signal,
      ...(sse ? { onDelta: (delta: string) => sse.data({ type: 'transcript.text.delta', delta }) } : {}),
    });
    if (sse) {
      sse.data({ type: 'transcript.text.done', text: result.text, usage: usageJson(result) });
      return;
    }
    const body = formatTranscription(params.format, task, result, params.language);
    sendText(res, 200, body.contentType, body.body);
  } catch (err) {
    if (!sse) throw err;
    sse.error(err);
  } finally {
    sse?.end();
  }
}

function field(form: UploadForm, name: string): string | undefined {
  const value = form.fields.get(name)?.[0];
  if (value !== undefined && value.length > MAX_FIELD_CHARS) {
    throw new EarshotError('E_INVALID_REQUEST', `${name} is longer than ${MAX_FIELD_CHARS} characters.`, {
      param: name,
    });
  }
  return value;
}

function audioParams(form: UploadForm, task: AudioTask): AudioParams {
  const model = field(form, 'model');
  if (!model) throw new EarshotError('E_INVALID_REQUEST', 'model is required.', { param: 'model' });
  const format = (field(form, 'response_format') ?? 'json') as ResponseFormat;
  if (!RESPONSE_FORMATS.includes(format)) {
    throw new EarshotError('E_INVALID_REQUEST', `response_format must be one of ${RESPONSE_FORMATS.join(', ')}.`, {
      param: 'response_format',
    });
  }
  const stream = field(form, 'stream');
  if (stream !== undefined && stream !== 'true' && stream !== 'false') {
    throw new EarshotError('E_INVALID_REQUEST', 'stream must be true or false.', { param: 'stream' });
  }
  if (stream === 'true' && task === 'translate') {
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      'Translations are not streamed (as with OpenAI); leave stream out.',
      { param: 'stream' },
    );
  }
  const granularities = [
    ...(form.fields.get('timestamp_granularities[]') ?? []),
    ...(form.fields.get('timestamp_granularities') ?? []),
  ];
  for (const g of granularities) {
    if (g === 'segment') continue;
    if (g === 'word')
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        'Word timestamps are not available: segments are timed by the VAD, words are not.',
        { param: 'timestamp_granularities[]' },
      );
    throw new EarshotError('E_INVALID_REQUEST', 'timestamp_granularities[] entries must be "segment" or "word".', {
      param: 'timestamp_granularities[]',
    });
  }
  if (granularities.length > 0 && format !== 'verbose_json') {
    throw new EarshotError('E_INVALID_REQUEST', 'timestamp_granularities[] needs response_format verbose_json.', {
      param: 'timestamp_granularities[]',
    });
  }
  const temperature = field(form, 'temperature');
  if (
    temperature !== undefined &&
    (!Number.isFinite(Number(temperature)) || Number(temperature) < 0 || Number(temperature) > 1)
  ) {
    throw new EarshotError('E_INVALID_REQUEST', 'temperature must be a number from 0 to 1.', { param: 'temperature' });
  }
  const language = field(form, 'language') || undefined;
  if (language !== undefined && !/^[A-Za-z][A-Za-z_ -]{0,31}$/.test(language)) {
    throw new EarshotError('E_INVALID_REQUEST', 'language must be an ISO-639-1 code (e.g. en) or a language name.', {
      param: 'language',
    });
  }
  return { model, language, prompt: field(form, 'prompt') || undefined, format, stream: stream === 'true' };
}
