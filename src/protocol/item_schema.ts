// Wire shapes of conversation items a client sends (`conversation.item.create`, `response.create`'s
// `input`). Matches the `openai` package's ConversationItem union for the item kinds Earshot handles:
// messages (user / assistant / system), function calls and their outputs. agents-realtime also replays
// history with `id` and `status`, so those are accepted. Whether a role may carry a given content part is
// a semantic question for the session layer; here each part is only checked against its own shape.
import { z } from 'zod';

export const itemStatusSchema = z.enum(['completed', 'incomplete', 'in_progress']);

export const contentPartSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('input_text'), text: z.string() }),
  // `audio` is base64 in the session's input format; decode it with decodeBase64Audio, never in zod
  // (a schema regex over megabytes of base64 costs more than the whole decode).
  z.looseObject({
    type: z.literal('input_audio'),
    audio: z.string().nullable().optional(),
    transcript: z.string().nullable().optional(),
  }),
  z.looseObject({
    type: z.literal('input_image'),
    image_url: z.string().optional(),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  }),
  z.looseObject({ type: z.literal('output_text'), text: z.string() }),
  z.looseObject({
    type: z.literal('output_audio'),
    audio: z.string().nullable().optional(),
    transcript: z.string().nullable().optional(),
  }),
  // Beta dialect names for assistant content.
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({
    type: z.literal('audio'),
    audio: z.string().nullable().optional(),
    transcript: z.string().nullable().optional(),
  }),
]);

const itemCommon = {
  id: z.string().optional(),
  object: z.literal('realtime.item').optional(),
  status: itemStatusSchema.optional(),
};

export const messageItemSchema = z.looseObject({
  ...itemCommon,
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system']),
  content: z.array(contentPartSchema),
});

export const functionCallItemSchema = z.looseObject({
  ...itemCommon,
  type: z.literal('function_call'),
  name: z.string(),
  arguments: z.string(),
  call_id: z.string().optional(),
});

export const functionCallOutputItemSchema = z.looseObject({
  ...itemCommon,
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: z.string(),
});

export const conversationItemSchema = z.discriminatedUnion('type', [
  messageItemSchema,
  functionCallItemSchema,
  functionCallOutputItemSchema,
]);

/** `response.create` input may also point at an existing item instead of copying it. */
export const itemReferenceSchema = z.looseObject({ type: z.literal('item_reference'), id: z.string() });

export const responseInputItemSchema = z.discriminatedUnion('type', [
  messageItemSchema,
  functionCallItemSchema,
  functionCallOutputItemSchema,
  itemReferenceSchema,
]);

export type WireContentPart = z.infer<typeof contentPartSchema>;
export type WireMessageItem = z.infer<typeof messageItemSchema>;
export type WireFunctionCallItem = z.infer<typeof functionCallItemSchema>;
export type WireFunctionCallOutputItem = z.infer<typeof functionCallOutputItemSchema>;
export type WireConversationItem = z.infer<typeof conversationItemSchema>;
export type WireResponseInputItem = z.infer<typeof responseInputItemSchema>;
