import { z } from 'zod';

// engine.remote: drive a remote engine (vLLM, or another Earshot) over OpenAI's
// chat-completions API instead of loading the model in this process.

const positiveInt = () => z.number().int().positive();

export const remoteEngineSchema = z.strictObject({
  url: z
    .string()
    .url()
    .optional()
    .describe(
      'Base URL of an OpenAI-compatible server (vLLM, or another Earshot), e.g. http://gpu-1:8000 (also --engine-url / EARSHOT_ENGINE_URL). Set: no model is loaded here; every turn is a streaming /v1/chat/completions request.',
    ),
  model: z
    .string()
    .min(1)
    .default('phi-4-multimodal-instruct')
    .describe(
      'The `model` of text-only requests: the name the remote serves the base model under (vLLM: the served model name).',
    ),
  speech_model: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The `model` of requests whose conversation holds audio: the remote's speech LoRA module name (vLLM: the NAME of --lora-modules NAME=PATH, e.g. speech). Unset: `model` for every request (another Earshot applies its adapter itself).",
    ),
  api_key: z.string().min(1).optional().describe('Bearer key for the remote (also EARSHOT_ENGINE_API_KEY).'),
  history: z
    .enum(['audio', 'transcripts'])
    .default('audio')
    .describe(
      "How earlier user turns travel: 'audio' resends their WAV every request (byte-stable, so the remote's prefix cache keeps hitting); 'transcripts' sends a turn's transcript once it has one (smaller requests, but each turn's prefix changes once, when its transcript arrives).",
    ),
  request_timeout_ms: positiveInt()
    .default(30_000)
    .describe(
      'Time from sending a request to the response headers, in ms; past it the request is aborted (E_ENGINE_REMOTE, retryable).',
    ),
  stream_idle_timeout_ms: positiveInt()
    .default(30_000)
    .describe('Longest gap between two streamed chunks, in ms; past it the generation is aborted (E_ENGINE_REMOTE).'),
  max_retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe(
      'Retries of a request that failed before any token arrived (connection refused, 5xx, timeout); a stream that already produced text is never retried, so no text is duplicated.',
    ),
  retry_backoff_ms: positiveInt()
    .default(250)
    .describe('Wait before the first retry, in ms; doubled for each further retry.'),
  max_audio_cache_bytes: positiveInt()
    .default(64 * 1024 * 1024)
    .describe(
      "WAV bytes of encoded (not yet released) utterances kept for the requests; past it encodeAudio fails with E_ENGINE_BUSY. Sessions keep their own turns' audio until rewound or disposed.",
    ),
});

export type RemoteEngineConfig = z.infer<typeof remoteEngineSchema>;
