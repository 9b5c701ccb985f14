import type { AgentSessionView, SessionType } from '../agent/session_view.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { EarshotError } from '../errors.ts';
import type { TurnDetectionSettings } from '../pipeline/types.ts';
import type {
  SessionObject,
  TurnDetectionConfig,
  TranscriptionConfig,
  AudioFormat,
  FunctionToolDefinition,
  ToolChoice,
  MaxOutputTokens,
} from '../protocol/server_session.ts';
import type { WireSessionConfig, WireTurnDetection } from '../protocol/session_schema.ts';
import { newSessionId } from '../protocol/ids.ts';
import type { IgnoredField } from './session_support.ts';
import { DEFAULT_INPUT_FORMAT, validatePcmRate, type InputAudioFormat } from './input_audio.ts';
import { SpeechSettings, type SessionSpeechOptions } from './speech_settings.ts';

export type { SessionType };

/** semantic_vad is served by the same Silero detector; eagerness maps to how long a pause ends a turn. */
const SEMANTIC_SILENCE_MS = { low: 1000, medium: 500, auto: 500, high: 250 } as const;
const SESSION_LIFETIME_S = 60 * 60;
/** Below a second an idle timeout would fire between the words of a conversation. */
const MIN_IDLE_TIMEOUT_MS = 1000;
export const DEFAULT_TRANSCRIPTION_MODEL = 'phi-4-multimodal-instruct';

/** What one connection has resolved from its defaults and every session.update so far. */
export class SessionState implements AgentSessionView {
  readonly id = newSessionId();
  readonly createdAtS = Math.floor(Date.now() / 1000);
  type: SessionType;
  model = 'phi-4-multimodal-instruct';
  instructions = '';
  inputFormat: InputAudioFormat = DEFAULT_INPUT_FORMAT;
  turnDetection: TurnDetectionConfig | null;
  transcription: TranscriptionConfig | null = { model: DEFAULT_TRANSCRIPTION_MODEL };
  wire: Record<string, unknown> = {};
  /** Client-side function tools (session.update `tools`): returned to the client as function calls. */
  tools: FunctionToolDefinition[] = [];
  toolChoice: ToolChoice = 'auto';
  maxOutputTokens: MaxOutputTokens = 'inf';
  /** Earshot extension `session.agent`: the agent serving this connection (null = as connected). */
  agentName: string | null = null;
  /** Spoken answers: output_modalities and audio.output. */
  readonly speech: SpeechSettings;

  constructor(
    private readonly config: EarshotConfig,
    type: SessionType,
    speech: SessionSpeechOptions = { service: null },
  ) {
    this.type = type;
    this.speech = new SpeechSettings(speech);
    this.turnDetection = {
      type: 'server_vad',
      threshold: config.vad.threshold,
      prefix_padding_ms: config.vad.prefix_padding_ms,
      silence_duration_ms: config.vad.silence_duration_ms,
      create_response: type === 'realtime',
      interrupt_response: type === 'realtime',
      idle_timeout_ms: null,
    };
  }

  /** Pipeline settings for the current turn detection (null = manual commits). */
  pipelineTurnDetection(): TurnDetectionSettings | null {
    const td = this.turnDetection;
    if (!td) return null;
    const vad = this.config.vad;
    const threshold = td.type === 'server_vad' ? td.threshold : vad.threshold;
    return {
      threshold,
      refineMarginDb: vad.refine_margin_db,
      refineSearchMs: vad.refine_search_ms,
      prefixPaddingMs: td.type === 'server_vad' ? td.prefix_padding_ms : vad.prefix_padding_ms,
      silenceDurationMs: td.type === 'server_vad' ? td.silence_duration_ms : SEMANTIC_SILENCE_MS[td.eagerness],
      minSpeechMs: vad.min_speech_ms,
      maxUtteranceMs: vad.max_utterance_ms,
      splitSearchMs: vad.split_search_ms,
      minSplitPauseMs: vad.min_split_pause_ms,
    };
  }

  /**
   * Validates a whole update before changing anything (an update is applied entirely or not at all).
   * Returns what changed for the pipeline.
   */
  apply(update: WireSessionConfig): {
    formatChanged: boolean;
    turnDetectionChanged: boolean;
    promptChanged: boolean;
    speechUnavailable: EarshotError | null;
  } {
    if (update.type && update.type !== this.type) {
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        `The session type is ${this.type} and cannot change to ${update.type}; open a new connection.`,
        {
          param: 'session.type',
        },
      );
    }
    // Audio output is checked here and applied with the rest; without a voice engine it is reported
    // (speechUnavailable, session_support.ignoredFields) and the session stays text-only.
    const speech = this.type === 'realtime' ? this.speech.prepare(update) : null;
    const input = update.audio?.input;
    const format = input?.format ? this.resolveFormat(input.format) : undefined;
    const tdWire =
      input && 'turn_detection' in input
        ? input.turn_detection
        : 'turn_detection' in update
          ? update.turn_detection
          : undefined;
    const turnDetection = tdWire === undefined ? undefined : this.resolveTurnDetection(tdWire);
    const transcription = input && 'transcription' in input ? input.transcription : undefined;

    const agentField = (update as Record<string, unknown>).agent;
    if (agentField !== undefined && (typeof agentField !== 'string' || agentField === '')) {
      throw new EarshotError('E_INVALID_EVENT', 'session.agent must be an agent name (see `earshot agents`)', {
        param: 'session.agent',
      });
    }
    const tools = update.tools?.filter((t): t is Extract<typeof t, { type: 'function' }> => t.type === 'function');
    const formatChanged = format !== undefined && JSON.stringify(format) !== JSON.stringify(this.inputFormat);
    const turnDetectionChanged =
      turnDetection !== undefined && JSON.stringify(turnDetection) !== JSON.stringify(this.turnDetection);
    if (format) this.inputFormat = format;
    if (turnDetection !== undefined) this.turnDetection = turnDetection;
    if (transcription !== undefined) {
      this.transcription =
        transcription === null
          ? null
          : { model: transcription.model ?? DEFAULT_TRANSCRIPTION_MODEL, ...pick(transcription) };
    }
    const promptChanged =
      (update.instructions !== undefined && update.instructions !== this.instructions) ||
      (tools !== undefined && JSON.stringify(tools) !== JSON.stringify(this.tools)) ||
      (update.tool_choice !== undefined && JSON.stringify(update.tool_choice) !== JSON.stringify(this.toolChoice)) ||
      (typeof agentField === 'string' && agentField !== this.agentName);
    if (update.instructions !== undefined) this.instructions = update.instructions;
    if (tools !== undefined) {
      this.tools = tools.map((t) => ({
        type: 'function',
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        ...(t.parameters !== undefined ? { parameters: t.parameters } : {}),
      }));
    }
    if (update.tool_choice !== undefined) this.toolChoice = update.tool_choice as ToolChoice;
    const maxTokens = update.max_output_tokens ?? update.max_response_output_tokens;
    if (maxTokens !== undefined) this.maxOutputTokens = maxTokens;
    if (typeof agentField === 'string') this.agentName = agentField;
    if (update.model !== undefined) this.model = update.model;
    speech?.commit();
    this.wire = { ...this.wire, ...update };
    return { formatChanged, turnDetectionChanged, promptChanged, speechUnavailable: speech?.unavailable ?? null };
  }

  private resolveFormat(
    format: NonNullable<NonNullable<WireSessionConfig['audio']>['input']>['format'],
  ): InputAudioFormat {
    if (!format) return this.inputFormat;
    if (format.type === 'audio/pcm') {
      const rateHz = format.rate ?? 24_000;
      validatePcmRate(rateHz);
      return { type: 'audio/pcm', rateHz };
    }
    return { type: format.type };
  }

  private resolveTurnDetection(td: WireTurnDetection): TurnDetectionConfig | null {
    if (td === null) return null;
    const isRealtime = this.type === 'realtime';
    if (td.type === 'semantic_vad') {
      return {
        type: 'semantic_vad',
        eagerness: td.eagerness ?? 'auto',
        create_response: td.create_response ?? isRealtime,
        interrupt_response: td.interrupt_response ?? isRealtime,
      };
    }
    const silence = td.silence_duration_ms ?? this.config.vad.silence_duration_ms;
    if (silence < 32) {
      throw new EarshotError('E_INVALID_EVENT', 'silence_duration_ms must be at least 32 (one VAD window)', {
        param: 'session.audio.input.turn_detection.silence_duration_ms',
      });
    }
    if (td.idle_timeout_ms != null && td.idle_timeout_ms < MIN_IDLE_TIMEOUT_MS) {
      throw new EarshotError(
        'E_INVALID_EVENT',
        `idle_timeout_ms must be at least ${MIN_IDLE_TIMEOUT_MS} (or null for none)`,
        {
          param: 'session.audio.input.turn_detection.idle_timeout_ms',
        },
      );
    }
    return {
      type: 'server_vad',
      threshold: td.threshold ?? this.config.vad.threshold,
      prefix_padding_ms: td.prefix_padding_ms ?? this.config.vad.prefix_padding_ms,
      silence_duration_ms: silence,
      create_response: td.create_response ?? isRealtime,
      interrupt_response: td.interrupt_response ?? isRealtime,
      idle_timeout_ms: td.idle_timeout_ms ?? null,
    };
  }

  /** The session as the client sees it; `ignored` lists the fields of the update being answered that had no effect. */
  toSessionObject(ignored: IgnoredField[] = []): SessionObject {
    const notes = ignored.length > 0 ? { ignored_fields: ignored } : {};
    const wireFormat: AudioFormat =
      this.inputFormat.type === 'audio/pcm'
        ? { type: 'audio/pcm', rate: this.inputFormat.rateHz }
        : { type: this.inputFormat.type };
    const input = {
      format: wireFormat,
      transcription: this.transcription,
      noise_reduction: null,
      turn_detection: this.turnDetection,
    };
    const expiresAt = this.createdAtS + SESSION_LIFETIME_S;
    if (this.type === 'transcription') {
      return {
        id: this.id,
        object: 'realtime.transcription_session',
        type: 'transcription',
        audio: { input },
        include: null,
        expires_at: expiresAt,
        ...notes,
      };
    }
    return {
      id: this.id,
      object: 'realtime.session',
      type: 'realtime',
      model: this.model,
      output_modalities: [...this.speech.modalities],
      instructions: this.instructions,
      // audio.output only where a voice engine exists: a text-only server's session object is unchanged.
      audio: this.speech.available ? { input, output: this.speech.toWire() } : { input },
      tools: this.tools,
      tool_choice: this.toolChoice,
      max_output_tokens: this.maxOutputTokens,
      tracing: null,
      prompt: null,
      include: null,
      expires_at: expiresAt,
      ...notes,
    };
  }
}

function pick(t: NonNullable<WireSessionConfig['input_audio_transcription']>): Omit<TranscriptionConfig, 'model'> {
  const out: Omit<TranscriptionConfig, 'model'> = {};
  if (t.language !== undefined) out.language = t.language;
  if (t.prompt !== undefined) out.prompt = t.prompt;
  if (t.translate_to !== undefined) out.translate_to = t.translate_to;
  return out;
}
