// The agent runtime's shared shapes: its options, the turn jobs it queues, and the narrow view of the
// runtime (TurnHost) that the turn handlers in audio_turns.ts, item_turns.ts and manual_response.ts get.
import type { SpeechEngine } from '../engine/engine_session.ts';
import type { EarshotError, ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Utterance } from '../pipeline/types.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { AgentSessionView } from './session_view.ts';
import type { AgentDefinition } from './agent.ts';
import type { AnswerSpeech } from './spoken_answer.ts';
import type { ConversationContext } from './conversation_context.ts';
import type { ItemChain } from './item_chain.ts';
import type { AgentServices } from './services.ts';

export interface AgentRuntimeSettings {
  maxToolSteps: number;
  toolTimeoutMs: number;
  interruptMinSpeechMs: number;
  captionMaxTokens: number;
  contextBudgetTokens: number;
  /** agent.max_output_tokens: caps 'inf' answers when set. */
  defaultMaxOutputTokens?: number;
  /** Client-requested turns (items, responses, retrieve/delete) queued or running; more get E_QUEUE_FULL (default 16). */
  maxQueuedTurns?: number;
  /** UTF-8 bytes of client text queued for the engine and not yet run; more gets E_QUEUE_FULL (default 512 KiB). */
  maxPendingTextBytes?: number;
}

export interface AgentRuntimeOptions {
  engine: SpeechEngine | null;
  /** Why there is no engine (E_MODEL_MISSING with the fix); required when engine is null. */
  engineUnavailable?: EarshotError;
  state: AgentSessionView;
  agent: AgentDefinition;
  settings: AgentRuntimeSettings;
  services: AgentServices;
  items: ItemChain;
  emit(payload: ServerEventPayload): void;
  emitError(code: ErrorCode, message: string, clientEventId?: string, param?: string): void;
  log: Logger;
  /** How a response speaks (null: a text answer); absent: every answer is text. */
  speech?: (params?: WireResponseCreateParams) => AnswerSpeech | null;
}

/** Decoded audio of one input_audio part of a conversation.item.create message. */
export interface ItemAudioClip {
  contentIndex: number;
  samples16k: Float32Array;
  /** Telephony (G.711) input, kept at 8 kHz for the model's 8 kHz path. */
  samples8k?: Float32Array;
}

/** The silent stretch an idle timeout committed (16 kHz, the most recent part when it was long). */
export interface IdleAudio {
  itemId: string;
  pcm16k: Float32Array;
  startSample: number;
  endSample: number;
  silenceMs: number;
}

export type Job =
  | { type: 'utterance'; utterance: Utterance; respond: boolean }
  | { type: 'idle'; idle: IdleAudio; respond: boolean }
  /** previousItemId: where the item goes (null: first); absent: after the last item the model has seen. */
  | {
      type: 'item';
      item: WireConversationItem;
      itemId: string;
      previousItemId?: string | null;
      clientEventId?: string;
      audio?: ItemAudioClip[];
    }
  /** The turns a manual commit produced, known once the audio pipeline has handled it (arrival order). */
  | { type: 'slot'; ready: Promise<Job[]> }
  | { type: 'response'; params?: WireResponseCreateParams; clientEventId?: string }
  | { type: 'delete'; itemId: string; clientEventId?: string }
  | { type: 'retrieve'; itemId: string; clientEventId?: string }
  /** conversation.item.truncate, or the WebRTC player flushed by a barge-in (no client event). */
  | { type: 'truncate'; itemId: string; contentIndex: number; audioEndMs: number; clientEventId?: string };

export interface RespondOptions {
  cachedTokens: number;
  /** The item the response's output follows (default: the last item in the context; null: first). */
  afterItemId?: string | null;
  /** ConversationContext.rebuilds when cachedTokens was read: a rebuild since means nothing was cached. */
  rebuildsBefore?: number;
  params?: WireResponseCreateParams;
  outOfBand?: boolean;
}

/** What a turn handler may use of the runtime; the runtime keeps the state, the handlers the steps. */
export interface TurnHost {
  /** The runtime's own options object (read at call time, never copied). */
  readonly opts: AgentRuntimeOptions;
  /** The current agent (session.update `agent` may switch it between turns). */
  agent(): AgentDefinition;
  /** The conversation context, created on first use. */
  context(engine: SpeechEngine): ConversationContext;
  /** The conversation context if one exists yet. */
  existingContext(): ConversationContext | null;
  /** A fresh context with the session's system prompt (a response with its own `input`). */
  newContext(engine: SpeechEngine): ConversationContext;
  requireEngine(what: string): SpeechEngine;
  isDisposed(): boolean;
  /** A user turn entered the context (a call summary needs at least one). */
  turnTaken(): void;
  respond(context: ConversationContext, opts: RespondOptions, jobSignal: AbortSignal): Promise<void>;
}
