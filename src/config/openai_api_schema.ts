import { z } from 'zod';

// Options of the OpenAI-compatible HTTP API: /v1/models, /v1/audio/transcriptions,
// /v1/audio/translations and /v1/chat/completions, served on the Realtime server's port.

const positiveInt = () => z.number().int().positive();

export const openAiApiSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Serve the OpenAI-compatible HTTP endpoints (same port, keys and admission as the Realtime API).'),
  model_id: z
    .string()
    .min(1)
    .max(128)
    .default('phi-4-multimodal-instruct')
    .describe(
      'The model id /v1/models lists and responses name. Requests may name any model (clients send whisper-1 or gpt-4o-transcribe out of habit); the one loaded model serves them all.',
    ),
  max_upload_bytes: positiveInt()
    .default(25 * 1024 * 1024)
    .describe(
      "Largest audio upload to /v1/audio/*, in bytes (OpenAI's own limit is 25 MB); larger bodies are refused with 413 E_PAYLOAD_TOO_LARGE while they are read, never buffered whole.",
    ),
  max_audio_duration_ms: positiveInt()
    .default(2 * 60 * 60 * 1000)
    .describe(
      'Longest audio one transcription request may carry, in ms of audio (default 2 h); longer files are refused with 400 E_AUDIO_TOO_LONG before any inference, so one request cannot hold the engine for hours.',
    ),
  max_chat_body_bytes: positiveInt()
    .default(32 * 1024 * 1024)
    .describe(
      'Largest /v1/chat/completions body, in bytes (base64 WAV parts included); larger bodies get 413 E_PAYLOAD_TOO_LARGE.',
    ),
  max_chat_audio_ms: positiveInt()
    .default(40_000)
    .describe(
      'Longest input_audio part of a chat message, in ms: the speech encoder covers 40 s (the utterance cap of the live pipeline); longer parts get 400 E_AUDIO_TOO_LONG.',
    ),
  prefix_cache_max_bytes: z
    .number()
    .int()
    .min(0)
    .default(512 * 1024 * 1024)
    .describe(
      'KV-cache bytes that finished chat conversations may keep for prefix reuse (a request whose messages extend an earlier one continues its cache instead of prefilling again); least recently used conversations are dropped past it. 0 turns reuse off.',
    ),
  prefix_cache_max_entries: positiveInt()
    .default(64)
    .describe('Finished chat conversations kept for prefix reuse, at most (each holds one engine session).'),
  prefix_cache_ttl_ms: positiveInt()
    .default(10 * 60 * 1000)
    .describe('How long an unused chat conversation stays cached for prefix reuse, in ms.'),
});

export type OpenAiApiConfig = z.infer<typeof openAiApiSchema>;
