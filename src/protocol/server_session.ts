// The `session` object Earshot sends in `session.created` / `session.updated`, shaped like OpenAI's
// RealtimeSessionCreateResponse so clients that read it (agents-realtime keeps it as-is) see familiar
// fields. Server-side shapes are exact (no index signatures): every field is one Earshot fills in.

export type AudioFormat = { type: 'audio/pcm'; rate: number } | { type: 'audio/pcmu' } | { type: 'audio/pcma' };

export type Modality = 'text' | 'audio';

export interface ServerVadConfig {
  type: 'server_vad';
  threshold: number;
  prefix_padding_ms: number;
  silence_duration_ms: number;
  create_response: boolean;
  interrupt_response: boolean;
  idle_timeout_ms: number | null;
}

export interface SemanticVadConfig {
  type: 'semantic_vad';
  eagerness: 'low' | 'medium' | 'high' | 'auto';
  create_response: boolean;
  interrupt_response: boolean;
}

export type TurnDetectionConfig = ServerVadConfig | SemanticVadConfig;

export interface TranscriptionConfig {
  model: string;
  language?: string;
  prompt?: string;
  /** Earshot extension: live speech translation target language. */
  translate_to?: string;
}

export interface NoiseReductionConfig {
  type: 'near_field' | 'far_field';
}

export interface SessionAudioInput {
  format: AudioFormat;
  transcription: TranscriptionConfig | null;
  noise_reduction: NoiseReductionConfig | null;
  turn_detection: TurnDetectionConfig | null;
}

export interface SessionAudioOutput {
  format: AudioFormat;
  voice?: string;
  speed?: number;
}

export interface FunctionToolDefinition {
  type: 'function';
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

export type MaxOutputTokens = number | 'inf';

export type TracingConfig = 'auto' | { workflow_name?: string; group_id?: string; metadata?: unknown };

/** Earshot extension in a session.updated echo: a field of that update accepted without effect, and why. */
export interface IgnoredFieldNote {
  param: string;
  reason: string;
}

export interface RealtimeSessionObject {
  /** 'sess_…' (newSessionId). */
  id: string;
  object: 'realtime.session';
  type: 'realtime';
  model: string;
  output_modalities: Modality[];
  instructions: string;
  audio: { input: SessionAudioInput; output?: SessionAudioOutput };
  tools: FunctionToolDefinition[];
  tool_choice: ToolChoice;
  max_output_tokens: MaxOutputTokens;
  tracing: TracingConfig | null;
  prompt: null;
  include: string[] | null;
  truncation?: 'auto' | 'disabled';
  /** Unix seconds. */
  expires_at: number;
  ignored_fields?: IgnoredFieldNote[];
}

export interface TranscriptionSessionObject {
  id: string;
  object: 'realtime.transcription_session';
  type: 'transcription';
  audio: { input: SessionAudioInput };
  include: string[] | null;
  /** Unix seconds. */
  expires_at: number;
  ignored_fields?: IgnoredFieldNote[];
}

export type SessionObject = RealtimeSessionObject | TranscriptionSessionObject;
