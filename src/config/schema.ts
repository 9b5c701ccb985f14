import { z } from 'zod';
import { webrtcConfigSchema } from './webrtc_schema.ts';
import { authLimitsStoreSections } from './auth_limits_store_schema.ts';
import { openAiApiSchema } from './openai_api_schema.ts';
import { remoteEngineSchema } from './remote_engine_schema.ts';
import { ttsSchema } from './tts_schema.ts';

// Every option Earshot has, in one schema. Keys are snake_case like the Realtime protocol's own
// fields. Each leaf says its unit and why it exists; `earshot config --schema` prints them (describe.ts).

const port = z.number().int().min(0).max(65535);
const positiveInt = () => z.number().int().positive();

export const serverSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address to listen on. Loopback by default so a fresh install is not exposed.'),
  port: port.default(8787).describe('TCP port (0 = any free port, used by tests).'),
  max_message_bytes: positiveInt()
    .default(4 * 1024 * 1024)
    .describe(
      'Largest WebSocket message accepted, in bytes; larger ones close the connection with 1009. 4 MiB holds 87 s of 24 kHz PCM16 as base64.',
    ),
  heartbeat_interval_ms: positiveInt()
    .default(30_000)
    .describe('Interval between WebSocket pings, in ms; a peer that has not answered the previous ping is terminated.'),
  max_pending_audio_ms: positiveInt()
    .default(10_000)
    .describe(
      'Audio a connection may have received but not yet run through VAD, in ms of audio; beyond it appends are refused with E_AUDIO_BACKLOG.',
    ),
  max_outbound_buffered_bytes: positiveInt()
    .default(8 * 1024 * 1024)
    .describe(
      'Bytes queued for a slow client before its connection is closed (1008), so one stalled reader cannot hold memory.',
    ),
  yield_after_message_bytes: positiveInt()
    .default(64 * 1024)
    .describe(
      "After a WebSocket message of at least this many bytes, its connection stops reading until the event loop has served the other connections once, so one client's burst of large events (megabyte items, long audio appends) cannot hold everyone else's events.",
    ),
  max_connections: positiveInt()
    .default(1000)
    .describe('Concurrent WebSocket connections; more are refused with HTTP 503.'),
  allowed_hosts: z
    .array(z.string().min(1).max(253))
    .default([])
    .describe(
      'Host names (without port, case-insensitive) that requests may name in their Host header, against DNS rebinding; others get 421 E_HOST_NOT_ALLOWED. Without API keys only loopback names (localhost, 127.0.0.1, [::1]) are served, plus these; with keys, empty allows any host.',
    ),
  tls_cert_file: z.string().optional().describe('PEM certificate file: serve https/wss (with tls_key_file).'),
  tls_key_file: z.string().optional().describe('PEM private key file for tls_cert_file.'),
  tls_self_signed: z
    .boolean()
    .default(false)
    .describe(
      'Serve https/wss with a self-signed certificate for localhost (kept under tls_self_signed_dir and reused): the openai package connects only over wss.',
    ),
  tls_self_signed_dir: z
    .string()
    .optional()
    .describe('Where the self-signed certificate is kept (default $XDG_DATA_HOME/earshot/tls).'),
  shutdown_grace_ms: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(10_000)
    .describe(
      'On SIGTERM: how long in-flight responses may run to completion, in ms, before they are cancelled and connections close with 1001. New sessions are refused from the signal on.',
    ),
  metrics_public: z
    .boolean()
    .default(false)
    .describe(
      'Serve /metrics without an API key (for a scraper on a private network); otherwise it needs a key whenever keys are configured.',
    ),
});

export const vadSchema = z.strictObject({
  threshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe('Silero speech probability at or above which a 32 ms window counts as speech.'),
  refine_margin_db: z
    .number()
    .min(1)
    .max(40)
    .default(9)
    .describe(
      'Exact onsets and offsets are placed where 10 ms frames of the whitened speech-band level (per-band noise floors, 300 Hz up) rise this many dB above the noise, near where Silero decided: its 32 ms windows move boundaries by up to ~100 ms with the window grid alone (docs/turn_detection.md).',
    ),
  refine_search_ms: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(480)
    .describe(
      "How far from Silero's window edge the exact onset or offset may lie, in ms (0 disables refinement). Silero lags ~300 ms behind the end of speech in noise.",
    ),
  prefix_padding_ms: z
    .number()
    .int()
    .min(0)
    .max(5000)
    .default(300)
    .describe('Audio kept before the detected speech onset, in ms, so the first phoneme is not clipped.'),
  silence_duration_ms: z
    .number()
    .int()
    .min(32)
    .max(10_000)
    .default(500)
    .describe('Continuous silence that ends an utterance, in ms. Shorter cuts sooner but splits sentences at pauses.'),
  min_speech_ms: z
    .number()
    .int()
    .min(0)
    .max(5000)
    .default(64)
    .describe('Speech shorter than this, in ms, is discarded as a click or cough rather than an utterance.'),
  max_utterance_ms: z
    .number()
    .int()
    .min(2000)
    .max(600_000)
    .default(40_000)
    .describe('Longest utterance, in ms. The Phi-4 speech encoder covers 40 s; longer speech is split at a pause.'),
  split_search_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(10_000)
    .describe('At the length cap, how far back from the cap to look for a pause to split at, in ms.'),
  min_split_pause_ms: z
    .number()
    .int()
    .min(32)
    .max(5000)
    .default(100)
    .describe('Shortest pause, in ms, that counts as a place to split an over-long utterance.'),
  inference_thread: z
    .enum(['worker', 'main'])
    .default('worker')
    .describe(
      'Where Silero runs: a worker thread (its inference then never holds up sockets and events; about a quarter of the event loop at 200 streams) or the main thread.',
    ),
  worker_threads: positiveInt()
    .max(64)
    .default(1)
    .describe(
      'Silero worker threads (with inference_thread "worker"); a batch of streams runs on each at once. One thread serves about 350 streams (55-63 % of a core at 200); on a machine with cores to spare, add one per ~300 streams.',
    ),
  batch_max_streams: positiveInt()
    .default(128)
    .describe(
      'Largest number of streams whose VAD windows run in one batched ONNX call; batching cuts the per-call overhead across connections.',
    ),
});

export const logSchema = z.strictObject({
  level: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level (pino).'),
  format: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe(
      'Log line format on stderr: JSON for collectors, readable lines for people; auto picks readable lines when stderr is a terminal.',
    ),
});

export const modelSchema = z.strictObject({
  dir: z
    .string()
    .optional()
    .describe('Phi-4-multimodal ONNX model directory; defaults to the cache directory used by `earshot model pull`.'),
  auto_pull: z
    .boolean()
    .default(true)
    .describe(
      '`earshot serve` without a complete model downloads it into the model directory in the background while serving, then loads it (like `earshot model pull`); false (or --no-pull) only reports it missing.',
    ),
  hub_endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'Hugging Face hub (or mirror) base URL for the first-start download; default HF_ENDPOINT, else https://huggingface.co.',
    ),
});

export const engineSchema = z.strictObject({
  context_budget_tokens: z
    .number()
    .int()
    .min(256)
    .max(131_072)
    .default(4096)
    .describe(
      'Tokens a session may hold before it is rebuilt (old audio replaced by transcripts). 4096 is where Phi-4 switches LongRoPE factors; KV entries computed under one regime are not recomputed.',
    ),
  max_pending_requests: positiveInt()
    .default(64)
    .describe(
      'Engine work waiting in the worker; beyond it requests fail at once with E_ENGINE_BUSY instead of queueing without end.',
    ),
  prefill_chunk_tokens: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(64)
    .describe(
      "Tokens per prefill run: each run is one scheduler step, so a long prompt does not hold up other sessions' decode steps (and a text graph kept as exported returns 800 KB of logits per position). 64 at Phi-4-mini size on CPU: prefill is compute-bound, a chunk costs about 64 tokens plus one step of weight reads, so 64 keeps ~95 % of the 128-token rate while holding other sessions up half as long.",
    ),
  batch_max_rows: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(4)
    .describe(
      'One-token steps (decode, the last prompt token) of this many sessions run as one text-graph run: the rows share one read of the weights. 1 turns batching off. 4 fits Phi-4-mini on CPU (measured: 4 rows gave 1.85x the tokens/s of one, each extra row adding about 45 % of a single step, so more rows mostly add latency); on a GPU 16 or more pays.',
    ),
  batch_max_context_tokens: z
    .number()
    .int()
    .min(0)
    .max(4095)
    .default(1024)
    .describe(
      'Sessions holding more tokens than this step alone: a batch is padded to its longest row, and past 4095 the padded length would switch LongRoPE factors for shorter rows.',
    ),
  worker_nice: z
    .number()
    .int()
    .min(0)
    .max(19)
    .default(0)
    .describe(
      'Linux nice value of the engine worker thread and its onnxruntime threads: above 0, turn detection and sockets win the CPU over captions when the machine is saturated (captions queue instead). 0 leaves the priority unchanged.',
    ),
  intra_op_threads: z
    .number()
    .int()
    .min(0)
    .max(256)
    .default(0)
    .describe('onnxruntime intra-op threads for the model (0 = onnxruntime default).'),
  execution_provider: z
    .enum(['cpu', 'cuda'])
    .default('cpu')
    .describe(
      "onnxruntime execution provider of the model. cuda needs onnxruntime-node's CUDA 12 provider (ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node), CUDA 12 and cuDNN 9; without it the engine refuses to start (E_ENGINE_PROVIDER). Use the float16 GPU export with it.",
    ),
  kv_cache: z
    .enum(['in_place', 'copy'])
    .default('in_place')
    .describe(
      "in_place: each session's KV cache is a buffer with room to spare that the text graph appends to, and sessions batched together share one (a step no longer returns the whole cache as new arrays). copy: the older path, kept to measure against.",
    ),
  kv_growth_tokens: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(128)
    .describe(
      'Positions an in-place KV cache grows by (one copy of the cache per growth). onnxruntime-node still returns a copy of the whole buffer each step, so headroom is not free: 128 positions is 32 MiB at Phi-4-mini size.',
    ),
  apply_speech_adapter: z
    .boolean()
    .default(true)
    .describe(
      "Apply the speech LoRA adapter by rewriting the decoder graph's LoRA branches at load (cached beside the model) when every tensor fits; false, or an adapter that does not fit, removes the branches and runs the base model, which may refuse to transcribe.",
    ),
  remote: remoteEngineSchema
    .prefault({})
    .describe(
      'A remote OpenAI-compatible engine (vLLM or another Earshot) used instead of loading the model here; see docs/scaling.md.',
    ),
});

export const agentSchema = z.strictObject({
  default: z
    .string()
    .min(1)
    .default('assistant')
    .describe('Agent for connections that name none (?agent=NAME or session.agent); see `earshot agents`.'),
  modules: z
    .array(z.string().min(1))
    .max(64)
    .default([])
    .describe(
      'JavaScript or TypeScript files whose default export is an agent (or an array of agents) to offer beside the built-in ones (`earshot serve --agents FILE`; docs/agents.md).',
    ),
  max_tool_steps: z
    .number()
    .int()
    .min(0)
    .max(16)
    .default(4)
    .describe('Tool-call rounds per response; past it the model is told to answer with what it has.'),
  tool_timeout_ms: positiveInt()
    .default(10_000)
    .describe(
      'Time a server tool may take per call, in ms, unless the tool sets its own; then it is aborted and the model gets a timeout error.',
    ),
  interrupt_min_speech_ms: z
    .number()
    .int()
    .min(0)
    .max(5000)
    .default(300)
    .describe(
      'Speech must last this long, in ms of audio, before it interrupts a response (barge-in), so a cough or "mhm" does not cut an answer off.',
    ),
  caption_max_tokens: positiveInt()
    .default(256)
    .describe('Longest caption (ASR or translation) of one utterance, in tokens; 40 s of speech is about 150 tokens.'),
  max_output_tokens: positiveInt()
    .optional()
    .describe(
      'Server-side cap on answers, in tokens, for sessions and responses that ask for "inf" (OpenAI\'s default). Unset: "inf" runs up to the context budget, as with OpenAI. A number the client sends still applies as it is.',
    ),
  data_dir: z
    .string()
    .optional()
    .describe(
      "Directory of the agents' SQLite data (itineraries, call center); default $XDG_DATA_HOME/earshot/agents.",
    ),
  remote_services: z
    .record(z.string(), z.strictObject({ url: z.string().optional(), api_key: z.string().optional() }))
    .default({})
    .describe(
      'Remote services used by tools, by name (e.g. {"weather": {"url": ..., "api_key": ...}}); a tool whose service is missing fails with a clear message.',
    ),
});

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  vad: vadSchema.prefault({}),
  log: logSchema.prefault({}),
  model: modelSchema.prefault({}),
  agent: agentSchema.prefault({}),
  engine: engineSchema.prefault({}),
  webrtc: webrtcConfigSchema.prefault({}),
  ...authLimitsStoreSections,
  openai_api: openAiApiSchema.prefault({}),
  tts: ttsSchema.prefault({}),
});

export type EarshotConfig = z.infer<typeof configSchema>;
export type VadConfig = z.infer<typeof vadSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type EngineConfig = z.infer<typeof engineSchema>;
export type { AuthConfig, LimitsConfig, StoreConfig } from './auth_limits_store_schema.ts';

/**
 * Limits that turn every overload guard off (event loop, VAD lag, engine wait, predicted capacity): for
 * benchmarks that measure what load does to admitted sessions, and tests whose machine is busy with
 * engines and fixtures of their own.
 */
export const OVERLOAD_GUARDS_OFF = {
  max_event_loop_delay_ms: 0,
  max_vad_lag_ms: 0,
  max_engine_wait_ms: 0,
  admission_max_utilization: 0,
} as const;

export function defaultConfig(): EarshotConfig {
  return configSchema.parse({});
}
