// The one catalogue of Earshot's stable error codes. Wire `error` events, CLI failures and engine
// failures all use these strings; clients may switch on them, so never rename one.
export const ERROR_CODES = {
  // protocol / input
  E_INVALID_JSON: 'The message is not valid JSON.',
  E_UNKNOWN_EVENT: 'The event type is unknown.',
  E_INVALID_EVENT: 'The event does not match its schema.',
  E_INVALID_BASE64: 'The audio field is not valid base64.',
  E_ODD_PCM_BYTES: 'PCM16 audio must have an even number of bytes.',
  E_UNSUPPORTED_FORMAT: 'The audio format is not supported.',
  E_UNSUPPORTED_FEATURE: 'The requested feature is not supported by Earshot.',
  E_BUFFER_EMPTY: 'There is no uncommitted audio to commit.',
  E_AUDIO_BACKLOG: 'Too much audio is waiting to be processed for this connection.',
  E_MESSAGE_TOO_LARGE: 'The WebSocket message exceeds the size limit.',
  E_BINARY_NOT_ALLOWED: 'Binary frames are raw PCM16 audio and require an audio/pcm input format.',
  // configuration and files
  E_CONFIG_INVALID: 'The configuration is invalid.',
  E_WAV_INVALID: 'The WAV file cannot be read.',
  E_WAV_UNSUPPORTED: 'The WAV encoding is not supported.',
  E_AUDIO_UNREADABLE: 'The audio file cannot be decoded.',
  E_FILE_NOT_FOUND: 'The file does not exist.',
  E_PORT_IN_USE: 'The address or port to listen on is in use or not available.',
  E_PERMISSION_DENIED: 'The operating system refused access.',
  E_SYSTEM: 'An operating-system call failed.',
  // models
  E_VAD_MODEL: 'The Silero VAD model could not be loaded or run.',
  E_MODEL_MISSING: 'No usable model directory was found.',
  E_MODEL_INVALID: 'The model directory does not match the expected layout.',
  E_MODEL_PULL: 'Downloading the model failed.',
  E_ENGINE: 'The engine failed.',
  E_ENGINE_BUSY: 'The engine queue is full.',
  E_ENGINE_PROVIDER: 'The configured execution provider (e.g. CUDA) is not available.',
  E_ABORTED: 'The operation was cancelled.',
  E_INTERNAL: 'An internal error occurred.',
  E_PROMPT_AUDIO_MISMATCH: 'The number of audio placeholders in the prompt differs from the number of audio clips.',
  E_PROMPT_TOKEN_INVALID: 'The prompt holds a token id the model cannot take as input.',
  E_ENGINE_WORKER_EXITED: 'The engine worker stopped; sessions on it are lost.',
  E_CONTEXT_OVERFLOW: 'The conversation does not fit the context budget even after compaction.',
  // auth, admission, store, HTTP API
  E_UNAUTHORIZED: 'A valid API key or unexpired ephemeral key is required.',
  E_FORBIDDEN_ORIGIN: 'The request origin is not allowed.',
  E_HOST_NOT_ALLOWED: 'The Host header names a host this server does not serve (server.allowed_hosts).',
  E_EPHEMERAL_KEY_QUOTA:
    'This API key holds its limit of unexpired ephemeral keys (count or preset bytes); retry later.',
  E_TEXT_TOO_LARGE: 'The text (item text or instructions) exceeds its size limit.',
  E_QUEUE_FULL: 'This connection has too many turns or too much text waiting; wait for responses before sending more.',
  E_CAPACITY: 'The server is at its session limit; retry later.',
  E_OVERLOADED: 'The server is falling behind real time; retry later.',
  E_KEY_CAPACITY: 'This API key is at its session limit; retry later.',
  E_DRAINING: 'The server is shutting down and admits no new sessions.',
  E_SESSION_EXPIRED: 'The session reached its maximum duration.',
  E_IDLE_TIMEOUT: 'The session was closed after receiving nothing for too long.',
  E_REQUEST_TIMEOUT: 'The request body did not arrive in time.',
  E_STORE: 'The transcript store failed.',
  E_NOT_FOUND: 'The resource does not exist.',
  E_INVALID_REQUEST: 'The HTTP request is invalid.',
  E_PAYLOAD_TOO_LARGE: 'The HTTP request body is too large.',
  E_CONNECT_FAILED: 'The client could not connect to the Realtime server.',
  E_CLIENT_BUILD: 'The browser client could not be built.',
  // WebRTC calls
  E_SDP_INVALID: 'The SDP offer is invalid or cannot be negotiated.',
  E_UNSUPPORTED_MEDIA_TYPE: 'The request body has an unsupported content type.',
  // voice agent runtime
  E_AGENT_UNKNOWN: 'No agent of that name exists (see `earshot agents`).',
  E_AGENT_MODULE: 'An agent module is invalid.',
  E_TOOL_NOT_CONFIGURED: 'The tool needs a remote service that is not configured (agent.remote_services).',
  // OpenAI Realtime conformance
  E_ITEM_NOT_FOUND: 'No conversation item has that id.',
  // spoken answers (session side)
  E_VOICE_LOCKED: 'The voice cannot change once the session has answered with audio.',
  E_AUDIO_END_PAST_END: "audio_end_ms lies past the end of the item's audio.",
  // OpenAI-compatible HTTP API and the remote engine
  E_AUDIO_TOO_LONG: 'The audio is longer than the configured limit.',
  E_ENGINE_REMOTE: 'The remote engine failed or could not be reached.',
  // spoken answers (text to speech)
  E_TTS_UNAVAILABLE: 'No voice engine is available, so audio output cannot be produced (text output still works).',
  E_TTS_ENGINE: 'The voice engine failed or took too long.',
  E_TTS_REMOTE: 'The remote speech endpoint failed or could not be reached.',
  E_TTS_VOICE: 'The voice is not known to the voice engine.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EarshotError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly param?: string;

  constructor(code: ErrorCode, message?: string, options?: { retryable?: boolean; param?: string; cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EarshotError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
    this.param = options?.param;
  }
}

export function isEarshotError(value: unknown): value is EarshotError {
  return value instanceof EarshotError;
}
