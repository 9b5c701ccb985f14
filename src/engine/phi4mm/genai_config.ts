import { z } from 'zod';

// Schema of the export's genai_config.json, limited to what Earshot reads. Unknown keys pass through
// (the real file carries search options and provider settings we do not use). Graph input/output
// names default to the ones documented in docs/model.md when the file omits them.

const sessionOptions = z.looseObject({}).optional();

const decoderInputs = z
  .looseObject({
    inputs_embeds: z.string().default('inputs_embeds'),
    attention_mask: z.string().default('attention_mask'),
    past_key_names: z.string().default('past_key_values.%d.key'),
    past_value_names: z.string().default('past_key_values.%d.value'),
  })
  .prefault({});

const decoderOutputs = z
  .looseObject({
    logits: z.string().default('logits'),
    present_key_names: z.string().default('present.%d.key'),
    present_value_names: z.string().default('present.%d.value'),
  })
  .prefault({});

const positiveInt = z.number().int().positive();

export const decoderSchema = z.looseObject({
  filename: z.string().default('phi-4-mm-text.onnx'),
  session_options: sessionOptions,
  head_size: positiveInt,
  hidden_size: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt,
  num_hidden_layers: positiveInt,
  inputs: decoderInputs,
  outputs: decoderOutputs,
});

export const embeddingSchema = z
  .looseObject({
    filename: z.string().default('phi-4-mm-embedding.onnx'),
    session_options: sessionOptions,
    inputs: z
      .looseObject({
        input_ids: z.string().default('input_ids'),
        image_features: z.string().default('image_features'),
        audio_features: z.string().default('audio_features'),
      })
      .prefault({}),
    outputs: z.looseObject({ inputs_embeds: z.string().default('inputs_embeds') }).prefault({}),
  })
  .prefault({});

export const speechSchema = z
  .looseObject({
    filename: z.string().default('phi-4-mm-speech.onnx'),
    config_filename: z.string().default('speech_processor.json'),
    adapter_filename: z.string().optional(),
    session_options: sessionOptions,
    inputs: z
      .looseObject({
        audio_embeds: z.string().default('audio_embeds'),
        attention_mask: z.string().default('audio_attention_mask'),
        audio_sizes: z.string().default('audio_sizes'),
        audio_projection_mode: z.string().default('audio_projection_mode'),
      })
      .prefault({}),
    outputs: z.looseObject({ audio_features: z.string().default('audio_features') }).prefault({}),
  })
  .prefault({});

export const visionSchema = z.looseObject({
  filename: z.string().default('phi-4-mm-vision.onnx'),
  config_filename: z.string().optional(),
  adapter_filename: z.string().optional(),
  session_options: sessionOptions,
  inputs: z
    .looseObject({
      pixel_values: z.string().default('pixel_values'),
      attention_mask: z.string().default('image_attention_mask'),
      image_sizes: z.string().default('image_sizes'),
    })
    .prefault({}),
  outputs: z.looseObject({ image_features: z.string().default('image_features') }).prefault({}),
});

export const genaiConfigSchema = z.looseObject({
  model: z.looseObject({
    type: z.string(),
    bos_token_id: z.number().int().default(199999),
    pad_token_id: z.number().int().default(199999),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).default([200020, 199999]),
    vocab_size: positiveInt.default(200064),
    context_length: positiveInt.default(131072),
    decoder: decoderSchema,
    embedding: embeddingSchema,
    speech: speechSchema,
    vision: visionSchema.optional(),
  }),
  search: z.looseObject({}).optional(),
});

export type GenaiConfig = z.output<typeof genaiConfigSchema>;

/** Expands a `%d` name template (e.g. `past_key_values.%d.key`) for every layer. */
export function expandLayerNames(template: string, numLayers: number): string[] {
  return Array.from({ length: numLayers }, (_, i) => template.replace('%d', String(i)));
}

/** eos_token_id may be a number or a list in real configs; always hand back a list. */
export function eosTokenIds(config: GenaiConfig): number[] {
  const eos = config.model.eos_token_id;
  return Array.isArray(eos) ? eos : [eos];
}

/** Every zod issue as `path: message`, for one error message that lists all of them. */
export function describeConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `genai_config.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
