// One zod schema per client -> server event of the OpenAI Realtime API (GA), plus the beta alias
// `transcription_session.update`. Field names follow the `openai` npm package's RealtimeClientEvent
// union. Every event may carry a client-chosen `event_id`, echoed in any `error` it causes.
import { z } from 'zod';
import { conversationItemSchema, responseInputItemSchema } from './item_schema.ts';
import {
  maxOutputTokensSchema,
  modalitySchema,
  promptReferenceSchema,
  sessionConfigSchema,
  toolChoiceSchema,
  toolSchema,
  voiceSchema,
  audioFormatSchema,
} from './session_schema.ts';

/** Client event ids are echoed back in errors, so their length is bounded (a generous 512 chars). */
export const MAX_CLIENT_EVENT_ID_CHARS = 512;

const eventId = z.string().max(MAX_CLIENT_EVENT_ID_CHARS).optional();
const nonNegativeInt = z.int().nonnegative();

export const sessionUpdateEventSchema = z.looseObject({
  type: z.literal('session.update'),
  event_id: eventId,
  session: sessionConfigSchema,
});

export const transcriptionSessionUpdateEventSchema = z.looseObject({
  type: z.literal('transcription_session.update'),
  event_id: eventId,
  session: sessionConfigSchema,
});

export const inputAudioBufferAppendEventSchema = z.looseObject({
  type: z.literal('input_audio_buffer.append'),
  event_id: eventId,
  // Base64 is checked by decodeBase64Audio (a table loop), not here: see item_schema.ts.
  audio: z.string(),
});

export const inputAudioBufferCommitEventSchema = z.looseObject({
  type: z.literal('input_audio_buffer.commit'),
  event_id: eventId,
});

export const inputAudioBufferClearEventSchema = z.looseObject({
  type: z.literal('input_audio_buffer.clear'),
  event_id: eventId,
});

/**
 * GA client event for WebRTC/SIP. Earshot has no audio output so it is a no-op, but agents-realtime's
 * WebRTC transport sends it on every interrupt; answering with an error would spam the client.
 */
export const outputAudioBufferClearEventSchema = z.looseObject({
  type: z.literal('output_audio_buffer.clear'),
  event_id: eventId,
});

export const conversationItemCreateEventSchema = z.looseObject({
  type: z.literal('conversation.item.create'),
  event_id: eventId,
  // null or absent: append at the end; 'root': insert first; an id: insert after that item.
  previous_item_id: z.string().nullable().optional(),
  item: conversationItemSchema,
});

export const conversationItemTruncateEventSchema = z.looseObject({
  type: z.literal('conversation.item.truncate'),
  event_id: eventId,
  item_id: z.string(),
  content_index: nonNegativeInt,
  // agents-realtime computes this from playback time and may send a fraction; the session floors it.
  audio_end_ms: z.number().nonnegative(),
});

export const conversationItemDeleteEventSchema = z.looseObject({
  type: z.literal('conversation.item.delete'),
  event_id: eventId,
  item_id: z.string(),
});

export const conversationItemRetrieveEventSchema = z.looseObject({
  type: z.literal('conversation.item.retrieve'),
  event_id: eventId,
  item_id: z.string(),
});

export const responseCreateParamsSchema = z.looseObject({
  instructions: z.string().optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  // 'auto' adds the response to the default conversation; 'none' makes an out-of-band response.
  conversation: z.string().optional(),
  input: z.array(responseInputItemSchema).optional(),
  max_output_tokens: maxOutputTokensSchema.optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  output_modalities: z.array(modalitySchema).optional(),
  audio: z
    .looseObject({
      output: z.looseObject({ format: audioFormatSchema.optional(), voice: voiceSchema.optional() }).optional(),
    })
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  prompt: promptReferenceSchema.optional(),
  // Beta dialect names.
  modalities: z.array(modalitySchema).optional(),
  max_response_output_tokens: maxOutputTokensSchema.optional(),
  temperature: z.number().optional(),
});

export const responseCreateEventSchema = z.looseObject({
  type: z.literal('response.create'),
  event_id: eventId,
  response: responseCreateParamsSchema.optional(),
});

export const responseCancelEventSchema = z.looseObject({
  type: z.literal('response.cancel'),
  event_id: eventId,
  response_id: z.string().optional(),
});

const clientEventSchemas = [
  sessionUpdateEventSchema,
  transcriptionSessionUpdateEventSchema,
  inputAudioBufferAppendEventSchema,
  inputAudioBufferCommitEventSchema,
  inputAudioBufferClearEventSchema,
  outputAudioBufferClearEventSchema,
  conversationItemCreateEventSchema,
  conversationItemTruncateEventSchema,
  conversationItemDeleteEventSchema,
  conversationItemRetrieveEventSchema,
  responseCreateEventSchema,
  responseCancelEventSchema,
] as const;

export const clientEventSchema = z.discriminatedUnion('type', clientEventSchemas);

export type ClientEvent = z.infer<typeof clientEventSchema>;
export type ClientEventType = ClientEvent['type'];
export type ClientEventOf<T extends ClientEventType> = Extract<ClientEvent, { type: T }>;

export type SessionUpdateEvent = ClientEventOf<'session.update'>;
export type TranscriptionSessionUpdateEvent = ClientEventOf<'transcription_session.update'>;
export type InputAudioBufferAppendEvent = ClientEventOf<'input_audio_buffer.append'>;
export type InputAudioBufferCommitEvent = ClientEventOf<'input_audio_buffer.commit'>;
export type InputAudioBufferClearEvent = ClientEventOf<'input_audio_buffer.clear'>;
export type OutputAudioBufferClearEvent = ClientEventOf<'output_audio_buffer.clear'>;
export type ConversationItemCreateEvent = ClientEventOf<'conversation.item.create'>;
export type ConversationItemTruncateEvent = ClientEventOf<'conversation.item.truncate'>;
export type ConversationItemDeleteEvent = ClientEventOf<'conversation.item.delete'>;
export type ConversationItemRetrieveEvent = ClientEventOf<'conversation.item.retrieve'>;
export type ResponseCreateEvent = ClientEventOf<'response.create'>;
export type ResponseCancelEvent = ClientEventOf<'response.cancel'>;
export type WireResponseCreateParams = z.infer<typeof responseCreateParamsSchema>;

/**
 * Schema per event type. A Map (not an object literal) so that a hostile `type` such as `__proto__` or
 * `constructor` can never resolve to something that is not a schema.
 */
export const CLIENT_EVENT_SCHEMAS: ReadonlyMap<string, (typeof clientEventSchemas)[number]> = new Map(
  clientEventSchemas.map((schema) => [schema.shape.type.value, schema] as const),
);

export const CLIENT_EVENT_TYPES: readonly ClientEventType[] = clientEventSchemas.map(
  (schema) => schema.shape.type.value,
);
