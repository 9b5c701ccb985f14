// Items and responses as Earshot sends them inside server events. The field sets follow the `openai`
// package's ConversationItem / RealtimeResponse and satisfy the zod schemas @openai/agents-realtime
// validates incoming events with (an event that fails them is silently dropped by that SDK): content
// part types are limited to the ones it accepts, and ids are always present.

export type ItemStatus = 'completed' | 'incomplete' | 'in_progress';

export type MessageContent =
  | { type: 'input_text'; text: string }
  /** `transcript` is null until transcription completes. */
  | { type: 'input_audio'; transcript: string | null; audio?: string }
  | { type: 'output_text'; text: string }
  | { type: 'output_audio'; transcript: string; audio?: string };

export interface MessageItem {
  /** 'item_…' (newItemId). */
  id: string;
  object: 'realtime.item';
  type: 'message';
  status: ItemStatus;
  role: 'user' | 'assistant' | 'system';
  content: MessageContent[];
}

/** A completed message item (committed speech, a message the client created). */
export function completedMessage(id: string, role: 'user' | 'assistant', content: MessageContent[]): MessageItem {
  return { id, object: 'realtime.item', type: 'message', status: 'completed', role, content };
}

export interface FunctionCallItem {
  id: string;
  object: 'realtime.item';
  type: 'function_call';
  /** agents-realtime acts on a call only once it sees it with status 'completed' in output_item.done. */
  status: ItemStatus;
  name: string;
  /** 'call_…' (newCallId). */
  call_id: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface FunctionCallOutputItem {
  id: string;
  object: 'realtime.item';
  type: 'function_call_output';
  status?: ItemStatus;
  call_id: string;
  output: string;
}

export type ConversationItem = MessageItem | FunctionCallItem | FunctionCallOutputItem;

/** Part of `response.content_part.*`: the wire uses 'text' / 'audio' here, not 'output_text'. */
export type ContentPart = { type: 'text'; text: string } | { type: 'audio'; transcript: string; audio?: string };

export type ResponseStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed' | 'incomplete';

export interface ResponseStatusDetails {
  type: 'completed' | 'cancelled' | 'incomplete' | 'failed';
  reason?: 'turn_detected' | 'client_cancelled' | 'max_output_tokens' | 'content_filter';
  error?: { type: string; code: string; message?: string };
}

export interface ResponseUsage {
  total_tokens: number;
  input_tokens: number;
  output_tokens: number;
  input_token_details: {
    text_tokens: number;
    audio_tokens: number;
    cached_tokens: number;
    image_tokens?: number;
  };
  output_token_details: { text_tokens: number; audio_tokens: number };
}

export interface RealtimeResponseObject {
  /** 'resp_…' (newResponseId). */
  id: string;
  object: 'realtime.response';
  status: ResponseStatus;
  status_details: ResponseStatusDetails | null;
  output: ConversationItem[];
  /** null for out-of-band responses (`conversation: 'none'`). */
  conversation_id: string | null;
  output_modalities: ('text' | 'audio')[];
  max_output_tokens: number | 'inf';
  usage: ResponseUsage | null;
  metadata: Record<string, string> | null;
}

/**
 * Usage of an input transcription. agents-realtime requires `input_token_details` with both counts when
 * `type` is 'tokens'; 'duration' is the whisper-style alternative.
 */
export type TranscriptionUsage =
  | {
      type: 'tokens';
      input_tokens: number;
      output_tokens: number;
      total_tokens: number;
      input_token_details: { text_tokens: number; audio_tokens: number };
    }
  | { type: 'duration'; seconds: number };

export interface RateLimit {
  name: 'requests' | 'tokens';
  limit: number;
  remaining: number;
  reset_seconds: number;
}
