import { z } from 'zod';
import { EarshotError } from '../errors.ts';
import { kokoroConfigSchema } from './kokoro_schema.ts';

// tts: spoken answers. Phi-4-multimodal answers in text; a voice engine speaks the text as it
// streams. Engines: espeak-ng (a child process, offline), kokoro (ONNX, its own branch), remote (any
// OpenAI-compatible POST /audio/speech).

const positiveInt = () => z.number().int().positive();

/** The voice names OpenAI's Realtime and speech APIs accept; the `voices` table maps each to engine voices. */
export const OPENAI_VOICE_NAMES = [
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'sage',
  'shimmer',
  'verse',
  'marin',
  'cedar',
] as const;

/** Engine voice ids per OpenAI voice name. espeak: en-us with its variants (+f = female, +m = male timbres). */
const DEFAULT_VOICES: Record<string, { espeak: string; kokoro: string; remote: string }> = {
  alloy: { espeak: 'en-us', kokoro: 'af_heart', remote: 'alloy' },
  ash: { espeak: 'en-us+m3', kokoro: 'am_michael', remote: 'ash' },
  ballad: { espeak: 'en-gb+m4', kokoro: 'bm_george', remote: 'ballad' },
  coral: { espeak: 'en-us+f3', kokoro: 'af_bella', remote: 'coral' },
  echo: { espeak: 'en-us+m1', kokoro: 'am_adam', remote: 'echo' },
  sage: { espeak: 'en-gb+f2', kokoro: 'bf_emma', remote: 'sage' },
  shimmer: { espeak: 'en-us+f4', kokoro: 'af_sky', remote: 'shimmer' },
  verse: { espeak: 'en-gb+m2', kokoro: 'bm_lewis', remote: 'verse' },
  marin: { espeak: 'en-us+f2', kokoro: 'af_nicole', remote: 'marin' },
  cedar: { espeak: 'en-us+m2', kokoro: 'am_eric', remote: 'cedar' },
};

const voiceIds = z.strictObject({
  espeak: z.string().min(1).max(64).optional(),
  kokoro: z.string().min(1).max(64).optional(),
  remote: z.string().min(1).max(64).optional(),
});

export const ttsEspeakSchema = z.strictObject({
  program: z
    .string()
    .min(1)
    .default('espeak-ng')
    .describe(
      "The espeak-ng program (a path or a name on PATH). It runs as a child process: its GPL code stays out of Earshot's process.",
    ),
  words_per_minute: z
    .number()
    .int()
    .min(80)
    .max(450)
    .default(175)
    .describe('Speaking rate at speed 1, in words per minute (espeak-ng -s); speed scales it, clamped to 80-450.'),
  timeout_ms: positiveInt()
    .default(10_000)
    .describe(
      'Longest one sentence may take to synthesise, in ms; past it the process is killed (E_TTS_ENGINE). espeak-ng speaks 18 s of audio in ~70 ms, so this only catches a hung process.',
    ),
  warm_processes: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(2)
    .describe(
      'espeak-ng processes started ahead and kept waiting for their text, in all voices and speeds together, so a sentence does not wait 30-40 ms for a process start; past it the oldest waiting one is killed. 0 turns warming off.',
    ),
  warm_idle_ms: positiveInt().default(60_000).describe('A warm espeak-ng process unused this long, in ms, is killed.'),
});

export const ttsRemoteSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'Base URL of an OpenAI-compatible speech server (Kokoro-FastAPI, vLLM-Omni, https://api.openai.com/v1): POST {url}/audio/speech (also --tts-url / EARSHOT_TTS_URL).',
    ),
  api_key: z.string().min(1).optional().describe('Bearer key for the speech server (also EARSHOT_TTS_API_KEY).'),
  model: z
    .string()
    .min(1)
    .max(128)
    .default('tts-1')
    .describe('The `model` field of each request (Kokoro-FastAPI: kokoro; OpenAI: tts-1, gpt-4o-mini-tts).'),
  request_timeout_ms: positiveInt()
    .default(10_000)
    .describe(
      'Time from sending a sentence to the response headers, in ms; past it the request is aborted (E_TTS_REMOTE, retryable).',
    ),
  stream_idle_timeout_ms: positiveInt()
    .default(10_000)
    .describe('Longest gap between two streamed audio chunks, in ms; past it the request is aborted (E_TTS_REMOTE).'),
});

export const ttsStreamSchema = z.strictObject({
  first_cut_min_chars: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(40)
    .describe(
      'The first sentence of an answer is cut early at a clause (comma, colon, dash) once it holds this many characters, so the first audio does not wait for a long sentence.',
    ),
  first_cut_wait_ms: z
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(300)
    .describe(
      'The first sentence is also cut (at the last word boundary) when this long passes, in ms, with text pending and no sentence end.',
    ),
  min_sentence_chars: z
    .number()
    .int()
    .min(0)
    .max(200)
    .default(8)
    .describe(
      'A sentence end closer than this to the start of the pending text does not cut (so "Dr." or "1." do not become their own utterance).',
    ),
  max_sentence_chars: z
    .number()
    .int()
    .min(20)
    .max(4000)
    .default(400)
    .describe(
      'Longest piece handed to the engine, in characters; text without any sentence end is cut at a word boundary at this length.',
    ),
  pipeline_depth: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(2)
    .describe(
      'Sentences synthesised ahead of the one being played (sentence n+1 while n plays); more hides engine latency, each costs one in-flight synthesis.',
    ),
  max_buffered_chars: positiveInt()
    .default(64 * 1024)
    .describe(
      'Text of one answer waiting to be spoken, in characters; past it the rest of the answer is not spoken (the transcript keeps it) and the overflow is reported once.',
    ),
});

export const ttsSchema = z.strictObject({
  engine: z
    .enum(['auto', 'espeak', 'kokoro', 'remote'])
    .default('auto')
    .describe(
      'Voice engine of spoken answers: auto = remote when tts.remote.url is set, else kokoro when its files are present or fetchable, else espeak-ng when installed, else none (sessions asking for audio get E_TTS_UNAVAILABLE; text keeps working).',
    ),
  default_voice: z
    .string()
    .min(1)
    .max(64)
    .default('alloy')
    .describe('Voice of sessions that name none: an OpenAI voice name (mapped by tts.voices) or an engine voice id.'),
  voices: z
    .record(z.string().min(1).max(64), voiceIds)
    .default(DEFAULT_VOICES)
    .describe(
      'OpenAI voice name -> engine voice id per engine ({"alloy": {"espeak": "en-us", "kokoro": "af_heart", "remote": "alloy"}}). A name not in the table is taken as an engine voice id.',
    ),
  max_input_chars: positiveInt()
    .default(4096)
    .describe(
      'Longest text of one POST /v1/audio/speech request (OpenAI allows 4096) and of one synthesis call, in characters; longer input is refused with E_TEXT_TOO_LARGE.',
    ),
  espeak: ttsEspeakSchema
    .prefault({})
    .describe(
      'The espeak-ng engine: program, words per minute at speed 1, timeout per sentence in ms, warm processes kept and their idle lifetime in ms.',
    ),
  remote: ttsRemoteSchema
    .prefault({})
    .describe(
      'The remote engine: an OpenAI-compatible POST {url}/audio/speech (url, api_key, model, request and idle timeouts in ms).',
    ),
  stream: ttsStreamSchema
    .prefault({})
    .describe(
      'How answer text is cut into sentences and synthesised ahead: first-cut characters and wait (ms), sentence bounds (characters), pipeline depth (sentences), buffered text (characters).',
    ),
  kokoro: kokoroConfigSchema
    .prefault({})
    .describe(
      'Kokoro-82M voice (tts.engine kokoro, or auto when its files are present or fetchable): folder, first-use fetch, precision, real-time fallback.',
    ),
});

export type TtsConfig = z.infer<typeof ttsSchema>;

/** tts with --tts-url / EARSHOT_TTS_URL and EARSHOT_TTS_API_KEY applied over tts.remote (E_CONFIG_INVALID on a bad URL). */
export function ttsWithRemote(tts: TtsConfig, url: string | undefined, apiKey: string | undefined): TtsConfig {
  if (!url && !apiKey) return tts;
  const remote = ttsRemoteSchema.safeParse({
    ...tts.remote,
    ...(url ? { url } : {}),
    ...(apiKey ? { api_key: apiKey } : {}),
  });
  if (!remote.success)
    throw new EarshotError('E_CONFIG_INVALID', `--tts-url: ${remote.error.issues[0].message}`, {
      param: 'tts.remote.url',
    });
  return { ...tts, remote: remote.data };
}
export type TtsStreamConfig = z.infer<typeof ttsStreamSchema>;
export type TtsEspeakConfig = z.infer<typeof ttsEspeakSchema>;
export type TtsRemoteConfig = z.infer<typeof ttsRemoteSchema>;
