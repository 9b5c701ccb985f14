// The /v1/chat/completions request as Earshot accepts it (OpenAI's shape; fields Earshot does not use
// are ignored, fields it cannot honour are refused by name).
import { z } from 'zod';

const MAX_STOP_SEQUENCES = 4;
const MAX_STOP_CHARS = 256;
const MAX_MESSAGES = 1024;
const MAX_TOOLS = 128;

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const audioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string().min(1), format: z.string().min(1) }),
});
/** Parts Earshot cannot take are still parsed, so the refusal names them (E_UNSUPPORTED_FEATURE). */
const otherPart = z.object({ type: z.string() }).loose();
const userPart = z.union([textPart, audioPart, otherPart]);
const textContent = z.union([z.string(), z.array(z.union([textPart, otherPart]))]);

const toolCall = z.object({
  id: z.string().optional(),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1).max(256), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: textContent }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(userPart).min(1)]) }),
  z.object({ role: z.literal('assistant'), content: textContent.nullish(), tool_calls: z.array(toolCall).optional() }),
  z.object({ role: z.literal('tool'), content: textContent, tool_call_id: z.string().optional() }),
]);

const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
    description: z.string().max(8192).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const chatRequestSchema = z.object({
  model: z.string().min(1).max(256),
  messages: z.array(chatMessageSchema).min(1).max(MAX_MESSAGES),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  n: z.literal(1).nullish(),
  stop: z
    .union([z.string().max(MAX_STOP_CHARS), z.array(z.string().min(1).max(MAX_STOP_CHARS)).max(MAX_STOP_SEQUENCES)])
    .nullish(),
  tools: z.array(toolSchema).max(MAX_TOOLS).nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatToolCall = z.infer<typeof toolCall>;
