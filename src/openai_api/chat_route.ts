// POST /v1/chat/completions: OpenAI's chat API on the engine, streamed (SSE chunks, [DONE]) or not.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EarshotError } from '../errors.ts';
import { methodNotAllowed } from '../transport/http_routes/http_util.ts';
import { sendJson, type HttpRoute } from '../transport/ws_server.ts';
import { serveApiCall, type ApiCall, type OpenAiApiDeps } from './api_context.ts';
import { runChatCompletion, type ChatResult } from './chat_completion.ts';
import { chatRequestSchema, type ChatRequest } from './chat_schema.ts';
import type { PrefixCache } from './prefix_cache.ts';
import { readBodyBounded } from './request_body.ts';
import { SseWriter } from './sse.ts';

const CHAT_PATH = '/v1/chat/completions';

export function createChatRoute(deps: OpenAiApiDeps, cache: PrefixCache): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname.replace(/\/$/, '') !== CHAT_PATH) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return true;
    }
    await serveApiCall(deps, 'chat_completions', req, res, (call) => handleChat(deps, cache, req, res, call));
    return true;
  };
}

async function readChatRequest(req: IncomingMessage, maxBytes: number): Promise<ChatRequest> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    req.resume();
    throw new EarshotError('E_UNSUPPORTED_MEDIA_TYPE', 'The body must be application/json.');
  }
  const body = await readBodyBounded(req, maxBytes, 'request body');
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new EarshotError('E_INVALID_REQUEST', 'The request body is not valid JSON.');
  }
  const parsed = chatRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.join('.');
    throw new EarshotError('E_INVALID_REQUEST', `${param || 'body'}: ${issue.message}`, { param: param || undefined });
  }
  return parsed.data;
}

async function handleChat(
  deps: OpenAiApiDeps,
  cache: PrefixCache,
  req: IncomingMessage,
  res: ServerResponse,
  call: ApiCall,
): Promise<void> {
  const limits = deps.config.openai_api;
  const request = await readChatRequest(req, limits.max_chat_body_bytes);
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = request.model;
  const run = (onDelta?: (text: string) => void) =>
    runChatCompletion(request, {
      engine: call.engine,
      cache,
      defaultMaxTokens: deps.config.agent.max_output_tokens ?? deps.config.engine.context_budget_tokens,
      maxAudioMs: limits.max_chat_audio_ms,
      signal: call.signal,
      onDelta,
    });
  if (!request.stream) {
    const result = await run();
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: messageOf(result), finish_reason: result.finishReason, logprobs: null }],
      usage: usageOf(result),
    });
    return;
  }
  const sse = new SseWriter(res);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    sse.data({ id, object: 'chat.completion.chunk', created, model, choices, ...extra });
  try {
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }]);
    const result = await run((text) =>
      chunk([{ index: 0, delta: { content: text }, finish_reason: null, logprobs: null }]),
    );
    if (result.toolCalls.length > 0) {
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: result.toolCalls.map((c, i) => ({
              index: i,
              id: c.id,
              type: 'function',
              function: { name: c.name, arguments: c.arguments },
            })),
          },
          finish_reason: null,
          logprobs: null,
        },
      ]);
    }
    chunk([{ index: 0, delta: {}, finish_reason: result.finishReason, logprobs: null }]);
    if (request.stream_options?.include_usage) chunk([], { usage: usageOf(result) });
    sse.done();
  } catch (err) {
    sse.error(err);
  } finally {
    sse.end();
  }
}

function messageOf(result: ChatResult) {
  return {
    role: 'assistant' as const,
    content: result.content === '' && result.toolCalls.length > 0 ? null : result.content,
    refusal: null,
    ...(result.toolCalls.length > 0
      ? {
          tool_calls: result.toolCalls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        }
      : {}),
  };
}

function usageOf(result: ChatResult) {
  const u = result.usage;
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    // cached_tokens: the prompt tokens continued from an earlier request's KV cache (prefix reuse).
    prompt_tokens_details: { cached_tokens: u.cachedTokens, audio_tokens: u.audioTokens },
  };
}
