import { z } from 'zod';

// Options of authentication, admission limits and the transcript store.
// Kept in its own file so it can be merged into configSchema as three sections: auth, limits, store.

const positiveInt = () => z.number().int().positive();

/** Configured keys must be long enough not to be guessed, and must not look like ephemeral keys. */
export const apiKeySchema = z
  .string()
  .min(16, 'API keys must be at least 16 characters')
  .max(512)
  .refine((key) => !key.startsWith('ek_'), "API keys must not start with 'ek_' (reserved for ephemeral keys)")
  .refine(
    (key) => /^[\x21-\x7e]+$/.test(key),
    'API keys must be printable ASCII without spaces (they travel in headers)',
  );

export const authSchema = z.strictObject({
  api_keys: z
    .array(apiKeySchema)
    .default([])
    .describe(
      'API keys that may use the server (Bearer header, `openai-insecure-api-key.` subprotocol, or to mint ephemeral keys). Merged with EARSHOT_API_KEYS (comma-separated). Kept only as SHA-256 hashes in memory. Empty = no authentication, allowed only on a loopback host.',
    ),
  allowed_origins: z
    .array(z.string().min(1))
    .default([])
    .describe(
      "Browser origins (scheme://host[:port]) allowed to connect; requests without an Origin header (non-browser clients) and same-origin requests are always allowed; '*' allows any origin. Stops other web pages from using a local server through the visitor's browser.",
    ),
  allow_unauthenticated_non_loopback: z
    .boolean()
    .default(false)
    .describe(
      'Serve without API keys on a non-loopback address. Off by default so a server reachable from the network is never open by accident.',
    ),
  ephemeral_key_ttl_s: z
    .number()
    .int()
    .min(10)
    .max(7200)
    .default(600)
    .describe(
      "Lifetime of an ephemeral key (`ek_...`) from POST /v1/realtime/client_secrets when the request gives none, in seconds. Same default and range as OpenAI's (10 min; 10 s to 2 h): long enough for a browser to connect, short enough that a leaked key soon dies.",
    ),
  max_ephemeral_keys: positiveInt()
    .default(10_000)
    .describe(
      'Unexpired ephemeral keys held at once over all API keys; more are refused with 429 so key minting cannot exhaust memory.',
    ),
  max_ephemeral_keys_per_key: positiveInt()
    .default(1000)
    .describe(
      'Unexpired ephemeral keys one API key may hold; more are refused with 429 E_EPHEMERAL_KEY_QUOTA so one tenant cannot take the shared pool (max_ephemeral_keys) from the others.',
    ),
  max_ephemeral_preset_bytes: positiveInt()
    .default(96 * 1024)
    .describe(
      'Largest session configuration (preset) an ephemeral key may carry, in bytes of its JSON: instructions up to limits.max_instructions_bytes plus tools. Larger mint requests are refused with 413 E_PAYLOAD_TOO_LARGE.',
    ),
  max_ephemeral_bytes_per_key: positiveInt()
    .default(16 * 1024 * 1024)
    .describe(
      "Bytes of presets the unexpired ephemeral keys of one API key may hold together (each key costs its preset's JSON size plus ~200 bytes); past it minting answers 429 E_EPHEMERAL_KEY_QUOTA. Memory is counted against the minting key.",
    ),
  max_ephemeral_bytes_total: positiveInt()
    .default(128 * 1024 * 1024)
    .describe(
      'Bytes of presets all unexpired ephemeral keys may hold together; past it minting answers 429 E_CAPACITY. Bounds the whole pool whatever the number of API keys.',
    ),
});

export const limitsSchema = z.strictObject({
  max_sessions: positiveInt()
    .default(256)
    .describe(
      'Concurrent Realtime sessions on this server; more are refused (HTTP 503 / close 1013) so admitted sessions keep their latency. 256 leaves headroom over the 200-session load target on the tiny model.',
    ),
  max_sessions_per_key: positiveInt()
    .default(64)
    .describe(
      'Concurrent sessions per API key (ephemeral keys count against the key that minted them); more are refused with HTTP 429 / close 1013 so one tenant cannot take the whole server.',
    ),
  max_session_duration_ms: positiveInt()
    .default(60 * 60 * 1000)
    .describe(
      "Longest a session may stay open, in ms (default 60 min, OpenAI's limit); at the limit it gets an error event and is closed, so no session holds a slot and KV memory forever.",
    ),
  max_event_loop_delay_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(250)
    .describe(
      "Event-loop delay p99 (ms, over each second) past which the server counts as overloaded: new sessions are refused (503 E_OVERLOADED) and /readyz answers 503 until it falls under half of this. Every connection's audio passes through the event loop, so this is when admitted sessions start to fall behind. 0 turns it off.",
    ),
  max_vad_lag_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(300)
    .describe(
      "How far behind its own stream's audio clock a window may start in the shared Silero VAD (the largest lateness over each second, in ms) before the server counts as behind real time: new sessions are refused (503 E_OVERLOADED), admitted ones get rate_limits.updated with nothing remaining, until it is back under half of this. Each stream's clock runs from its first window at real time, so a client uploading faster than real time is not lag; a VAD slower than real time is. 0 turns it off.",
    ),
  max_engine_wait_ms: z
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(2000)
    .describe(
      "How long a session's queued turn or next step may wait in the shared engine queue (the longest wait over each second, in ms) before the server counts as behind: new sessions are refused (503 E_OVERLOADED) and admitted ones get rate_limits.updated with nothing remaining, until it is back under half of this. The engine runs every session's steps round robin, so this wait is the delay every admitted session's answers already suffer. 0 turns it off.",
    ),
  admission_max_utilization: z
    .number()
    .min(0)
    .max(1)
    .default(0.7)
    .describe(
      "Predicted busy fraction (0..1) of the main event loop or the VAD thread past which new sessions are refused (503 E_OVERLOADED), before any lag shows: each second the server divides each one's utilization by the running sessions (a per-session cost) and counts sessions admitted within admission_settle_ms at that cost; one more session is refused when the peak utilization of the last 5 s + (starting + 1) x cost would pass this. Admitted sessions get rate_limits.updated with nothing remaining meanwhile. 0 turns prediction off (the lag watches above remain).",
    ),
  admission_slow_start_per_s: positiveInt()
    .default(5)
    .describe(
      'Sessions admitted per second while no per-session cost has been measured yet (a server that just started, or never had a session running for a second); more are refused with 503 E_OVERLOADED, so a burst of connections cannot overshoot capacity before the prediction (admission_max_utilization) has a sample.',
    ),
  admission_min_sessions: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(8)
    .describe(
      'Sessions always admitted before admission_max_utilization and admission_slow_start_per_s apply (the lag watches and max_sessions still do): with a handful of sessions the measured utilization is mostly the server itself and one client uploading a clip faster than real time, not a per-session cost.',
    ),
  admission_settle_ms: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5000)
    .describe(
      'How long after its admission a session counts as still starting for admission_max_utilization, in ms: its load is not yet fully in the samples (its first utterance, then its captions, come a few seconds in), so it is counted at the estimated per-session cost on top of the measured utilization.',
    ),
  max_item_text_bytes: positiveInt()
    .default(128 * 1024)
    .describe(
      'Text one conversation item may carry (its text parts, function arguments or output together), in UTF-8 bytes; larger items are refused with E_TEXT_TOO_LARGE before anything is tokenized. 128 KiB is about 32k tokens, eight times the default context budget.',
    ),
  max_instructions_bytes: positiveInt()
    .default(64 * 1024)
    .describe(
      'Longest session or response instructions, in UTF-8 bytes; longer ones are refused with E_TEXT_TOO_LARGE. 64 KiB is about 16k tokens, four times the default context budget.',
    ),
  max_text_event_bytes: positiveInt()
    .default(512 * 1024)
    .describe(
      'Largest client event without audio (no "audio" member), in bytes of its JSON; larger ones are refused with E_TEXT_TOO_LARGE from their length, before they are decoded or parsed, so a client sending megabyte text items cannot hold the event loop for every other session. Audio events are bounded by server.max_message_bytes alone. 512 KiB holds an item at max_item_text_bytes with room for JSON escaping, and is the default max_pending_text_bytes: a larger text event could not be queued anyway.',
    ),
  max_queued_turns: positiveInt()
    .default(16)
    .describe(
      'Client-requested turns (conversation.item.create, response.create, item retrieve/delete) one connection may have queued or running; more are refused with E_QUEUE_FULL, so one client cannot queue unbounded work or memory.',
    ),
  max_pending_text_bytes: positiveInt()
    .default(512 * 1024)
    .describe(
      'Text (item text and response inputs) one connection may have queued for the engine and not yet run, in UTF-8 bytes; more is refused with E_QUEUE_FULL until its turns have run.',
    ),
  idle_timeout_ms: positiveInt()
    .default(10 * 60 * 1000)
    .describe(
      'Time without any client message (events or audio) after which a session is closed, in ms (default 10 min): frees the slot of clients that vanished without closing their socket.',
    ),
});

export const storeSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .optional()
    .describe(
      "SQLite file for sessions and transcripts (also --store / EARSHOT_STORE); default $XDG_DATA_HOME/earshot/earshot.sqlite. ':memory:' keeps nothing after exit.",
    ),
  retention_days: z
    .number()
    .min(0)
    .max(36_500)
    .default(0)
    .describe(
      'Delete sessions (and their transcripts, responses and tool calls) older than this many days, at start-up and every hour; 0 keeps everything. Off by default so no transcript is deleted without being asked.',
    ),
});

export type AuthConfig = z.infer<typeof authSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;

/** The three sections as they would sit in configSchema (merge with `.prefault({})` like the others). */
export const authLimitsStoreSections = {
  auth: authSchema.prefault({}),
  limits: limitsSchema.prefault({}),
  store: storeSchema.prefault({}),
};
