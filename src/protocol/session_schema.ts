// Wire shapes of the `session` object a client sends in `session.update` (GA) and, for beta clients,
// `transcription_session.update`. These are what the `openai` npm package types as
// RealtimeSessionCreateRequest / RealtimeTranscriptionSessionCreateRequest and what
// @openai/agents-realtime builds in `_getMergedSessionConfig`. Objects are loose: clients send many
// fields Earshot ignores (voice, speed, prompt, reasoning, ...), and rejecting them would break
// existing SDKs; the fields Earshot understands are type-checked. What the session resolves from these
// shapes (defaults, refusals such as audio output) is the session layer's job, not this file's.
import { z } from 'zod';

/** GA audio formats. `rate` is typed as any positive integer: the session decides which rates it serves. */
export const audioFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('audio/pcm'), rate: z.int().positive().optional() }),
  z.looseObject({ type: z.literal('audio/pcmu') }),
  z.looseObject({ type: z.literal('audio/pcma') }),
]);

/** Beta (`realtime=v1`) string formats used by the flat `input_audio_format` field. */
export const betaAudioFormatSchema = z.enum(['pcm16', 'g711_ulaw', 'g711_alaw']);

const nonNegativeMs = z.number().nonnegative();

export const serverVadSchema = z.looseObject({
  type: z.literal('server_vad'),
  threshold: z.number().min(0).max(1).optional(),
  prefix_padding_ms: nonNegativeMs.optional(),
  silence_duration_ms: nonNegativeMs.optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
  idle_timeout_ms: nonNegativeMs.nullable().optional(),
});

export const semanticVadSchema = z.looseObject({
  type: z.literal('semantic_vad'),
  eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
  create_response: z.boolean().optional(),
  interrupt_response: z.boolean().optional(),
});

/** `null` (not absent) means manual turns: the client commits the buffer itself. */
export const turnDetectionSchema = z.discriminatedUnion('type', [serverVadSchema, semanticVadSchema]).nullable();

export const transcriptionConfigSchema = z
  .looseObject({
    model: z.string().optional(),
    language: z.string().optional(),
    languages: z.array(z.string()).optional(),
    prompt: z.string().optional(),
    keywords: z.array(z.string()).optional(),
    delay: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
    // Earshot extension: caption in this language instead of the spoken one (live speech translation).
    translate_to: z.string().optional(),
  })
  .nullable();

// agents-realtime sends `noise_reduction: null` by default, so null must be accepted.
export const noiseReductionSchema = z.looseObject({ type: z.enum(['near_field', 'far_field']).optional() }).nullable();

export const audioInputConfigSchema = z.looseObject({
  format: audioFormatSchema.optional(),
  turn_detection: turnDetectionSchema.optional(),
  transcription: transcriptionConfigSchema.optional(),
  noise_reduction: noiseReductionSchema.optional(),
});

export const voiceSchema = z.union([z.string(), z.looseObject({ id: z.string() })], {
  error: 'expected a voice name or {id}',
});

export const audioOutputConfigSchema = z.looseObject({
  format: audioFormatSchema.optional(),
  voice: voiceSchema.optional(),
  speed: z.number().positive().optional(),
});

export const audioConfigSchema = z.looseObject({
  input: audioInputConfigSchema.optional(),
  output: audioOutputConfigSchema.optional(),
});

export const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().optional(),
  // A JSON Schema object; its content is the tool's business, Earshot only passes it on.
  parameters: z.record(z.string(), z.unknown()).optional(),
});

export const mcpToolSchema = z.looseObject({
  type: z.literal('mcp'),
  server_label: z.string(),
  server_url: z.string().optional(),
});

// The `openai` typings make `type` optional on function tools; default it so a tool without `type` is
// checked as a function tool rather than failing with an opaque union error.
export const toolSchema = z.preprocess(
  (value) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && !('type' in value)
      ? { ...value, type: 'function' }
      : value,
  z.discriminatedUnion('type', [functionToolSchema, mcpToolSchema]),
);

export const toolChoiceSchema = z.union(
  [
    z.enum(['auto', 'none', 'required']),
    z.looseObject({ type: z.literal('function'), name: z.string() }),
    z.looseObject({ type: z.literal('mcp'), server_label: z.string(), name: z.string().nullable().optional() }),
  ],
  { error: "expected 'auto', 'none', 'required', {type:'function', name} or {type:'mcp', server_label}" },
);

export const maxOutputTokensSchema = z.union([z.int().positive(), z.literal('inf')], {
  error: "expected a positive integer or 'inf'",
});

export const modalitySchema = z.enum(['text', 'audio']);

export const tracingSchema = z
  .union(
    [
      z.literal('auto'),
      z.looseObject({
        workflow_name: z.string().optional(),
        group_id: z.string().optional(),
        metadata: z.unknown().optional(),
      }),
    ],
    { error: "expected 'auto', a tracing object or null" },
  )
  .nullable();

export const truncationSchema = z.union(
  [
    z.enum(['auto', 'disabled']),
    z.looseObject({ type: z.literal('retention_ratio'), retention_ratio: z.number().min(0).max(1) }),
  ],
  { error: "expected 'auto', 'disabled' or {type:'retention_ratio', retention_ratio}" },
);

export const promptReferenceSchema = z
  .looseObject({
    id: z.string(),
    version: z.string().nullable().optional(),
    variables: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .nullable();

/**
 * One schema for both session types: a transcription session is a realtime session with fewer fields,
 * and beta clients omit `type` entirely, so `type` is optional here and the session layer defaults it.
 */
export const sessionConfigSchema = z.looseObject({
  type: z.enum(['realtime', 'transcription']).optional(),
  model: z.string().optional(),
  instructions: z.string().optional(),
  output_modalities: z.array(modalitySchema).optional(),
  audio: audioConfigSchema.optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  max_output_tokens: maxOutputTokensSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  include: z.array(z.string()).nullable().optional(),
  tracing: tracingSchema.optional(),
  truncation: truncationSchema.optional(),
  prompt: promptReferenceSchema.optional(),
  // Beta dialect flat fields (`OpenAI-Beta: realtime=v1`). The GA API rejects them; Earshot reads them
  // only for beta connections, but their types are checked either way.
  modalities: z.array(modalitySchema).optional(),
  input_audio_format: betaAudioFormatSchema.optional(),
  output_audio_format: betaAudioFormatSchema.optional(),
  turn_detection: turnDetectionSchema.optional(),
  input_audio_transcription: transcriptionConfigSchema.optional(),
  input_audio_noise_reduction: noiseReductionSchema.optional(),
  max_response_output_tokens: maxOutputTokensSchema.optional(),
  temperature: z.number().optional(),
  voice: voiceSchema.optional(),
});

export type WireAudioFormat = z.infer<typeof audioFormatSchema>;
export type WireBetaAudioFormat = z.infer<typeof betaAudioFormatSchema>;
export type WireTurnDetection = z.infer<typeof turnDetectionSchema>;
export type WireServerVad = z.infer<typeof serverVadSchema>;
export type WireSemanticVad = z.infer<typeof semanticVadSchema>;
export type WireTranscriptionConfig = z.infer<typeof transcriptionConfigSchema>;
export type WireNoiseReduction = z.infer<typeof noiseReductionSchema>;
export type WireAudioConfig = z.infer<typeof audioConfigSchema>;
export type WireTool = z.infer<typeof toolSchema>;
export type WireFunctionTool = z.infer<typeof functionToolSchema>;
export type WireToolChoice = z.infer<typeof toolChoiceSchema>;
export type WireMaxOutputTokens = z.infer<typeof maxOutputTokensSchema>;
export type WireSessionConfig = z.infer<typeof sessionConfigSchema>;
