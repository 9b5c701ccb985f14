// Server -> client events Earshot emits, with GA names and the id fields agents-realtime requires
// (item_id, response_id, output_index, content_index, previous_item_id). Payload types carry no
// `event_id`; `serverEvent()` stamps a fresh one, so an id is never reused or forgotten.
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { AudioServerEventPayload } from './audio_events.ts';
import { newEventId } from './ids.ts';
import type {
  ContentPart,
  ConversationItem,
  RateLimit,
  RealtimeResponseObject,
  TranscriptionUsage,
} from './server_items.ts';
import type { SessionObject } from './server_session.ts';

interface ResponseContentRef {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}

interface ItemEventBody {
  /** null when the item is first in the conversation (or out of band). */
  previous_item_id: string | null;
  item: ConversationItem;
}

export type ErrorType = 'invalid_request_error' | 'server_error';

export interface ErrorBody {
  type: ErrorType;
  code: ErrorCode;
  message: string;
  param: string | null;
  /** The client's `event_id` of the event that caused the error, when it had one. */
  event_id: string | null;
}

export type ServerEventPayload =
  | { type: 'session.created'; session: SessionObject }
  | { type: 'session.updated'; session: SessionObject }
  | { type: 'conversation.created'; conversation: { id: string; object: 'realtime.conversation' } }
  | { type: 'input_audio_buffer.speech_started'; audio_start_ms: number; item_id: string }
  | { type: 'input_audio_buffer.speech_stopped'; audio_end_ms: number; item_id: string }
  | { type: 'input_audio_buffer.committed'; item_id: string; previous_item_id: string | null }
  | { type: 'input_audio_buffer.cleared' }
  | { type: 'input_audio_buffer.timeout_triggered'; audio_start_ms: number; audio_end_ms: number; item_id: string }
  | ({ type: 'conversation.item.created' } & ItemEventBody)
  | ({ type: 'conversation.item.added' } & ItemEventBody)
  | ({ type: 'conversation.item.done' } & ItemEventBody)
  | { type: 'conversation.item.retrieved'; item: ConversationItem }
  | { type: 'conversation.item.deleted'; item_id: string }
  | { type: 'conversation.item.truncated'; item_id: string; content_index: number; audio_end_ms: number }
  | {
      type: 'conversation.item.input_audio_transcription.delta';
      item_id: string;
      content_index: number;
      delta: string;
    }
  | {
      type: 'conversation.item.input_audio_transcription.completed';
      item_id: string;
      content_index: number;
      transcript: string;
      usage: TranscriptionUsage;
    }
  | {
      type: 'conversation.item.input_audio_transcription.failed';
      item_id: string;
      content_index: number;
      // agents-realtime rejects `param: null` here, so param is omitted rather than null.
      error: { type: string; code: string; message: string; param?: string };
    }
  | { type: 'response.created'; response: RealtimeResponseObject }
  | { type: 'response.done'; response: RealtimeResponseObject }
  | { type: 'response.output_item.added'; response_id: string; output_index: number; item: ConversationItem }
  | { type: 'response.output_item.done'; response_id: string; output_index: number; item: ConversationItem }
  | ({ type: 'response.content_part.added'; part: ContentPart } & ResponseContentRef)
  | ({ type: 'response.content_part.done'; part: ContentPart } & ResponseContentRef)
  | ({ type: 'response.output_text.delta'; delta: string } & ResponseContentRef)
  | ({ type: 'response.output_text.done'; text: string } & ResponseContentRef)
  | {
      type: 'response.function_call_arguments.delta';
      response_id: string;
      item_id: string;
      output_index: number;
      call_id: string;
      delta: string;
    }
  | {
      type: 'response.function_call_arguments.done';
      response_id: string;
      item_id: string;
      output_index: number;
      call_id: string;
      name: string;
      arguments: string;
    }
  | AudioServerEventPayload
  // WebRTC only: playback of a response's audio on the call's track (started, drained, flushed).
  | { type: 'output_audio_buffer.started'; response_id: string }
  | { type: 'output_audio_buffer.stopped'; response_id: string }
  | { type: 'output_audio_buffer.cleared'; response_id: string }
  | { type: 'rate_limits.updated'; rate_limits: RateLimit[] }
  | { type: 'error'; error: ErrorBody };

export type ServerEventType = ServerEventPayload['type'];
export type ServerEventPayloadOf<T extends ServerEventType> = Extract<ServerEventPayload, { type: T }>;
type WithEventId<P> = P extends unknown ? P & { event_id: string } : never;
export type ServerEvent = WithEventId<ServerEventPayload>;
export type ServerEventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

/** Stamps a unique `event_id` ('event_…'). Builders put `type` first, so it stays the first key. */
export function serverEvent<T extends ServerEventPayload>(payload: T): T & { event_id: string } {
  return { ...payload, event_id: newEventId() };
}

// Codes whose cause is on Earshot's side; everything else is the client's request.
const SERVER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_VAD_MODEL',
  'E_MODEL_MISSING',
  'E_MODEL_INVALID',
  'E_MODEL_PULL',
  'E_ENGINE',
  'E_ENGINE_BUSY',
  'E_OVERLOADED',
  'E_INTERNAL',
]);

export function errorTypeOf(code: ErrorCode): ErrorType {
  return SERVER_ERROR_CODES.has(code) ? 'server_error' : 'invalid_request_error';
}

export interface ErrorEventOptions {
  /** Dotted path of the offending field, e.g. 'session.audio.input.format.rate'. */
  param?: string;
  /** `event_id` of the client event that caused the error. */
  clientEventId?: string;
  /** Defaults from the code: engine and model failures are 'server_error'. */
  type?: ErrorType;
}

export function errorEvent(code: ErrorCode, message: string, opts: ErrorEventOptions = {}): ServerEventOf<'error'> {
  return serverEvent({
    type: 'error',
    error: {
      type: opts.type ?? errorTypeOf(code),
      code,
      message: message === '' ? ERROR_CODES[code] : message,
      param: opts.param ?? null,
      event_id: opts.clientEventId ?? null,
    },
  });
}
