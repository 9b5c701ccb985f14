import { z } from 'zod';

// tts.kokoro: the Kokoro-82M voice, run on Earshot's own onnxruntime in a worker thread.
// The precision names mirror src/tts/kokoro/model_folder.ts (config imports no layer).

const positiveInt = () => z.number().int().positive();
export const KOKORO_CONFIG_PRECISIONS = ['fp32', 'fp16', 'q8', 'uint8', 'q4'] as const;

export const kokoroConfigSchema = z.strictObject({
  dir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Kokoro model folder in the hub layout (onnx/, voices/, tokenizer.json). Default: EARSHOT_KOKORO, else $XDG_CACHE_HOME/earshot/models/kokoro-82m-v1.0-onnx (where `earshot model pull kokoro` writes).',
    ),
  auto_pull: z
    .boolean()
    .default(true)
    .describe(
      'Fetch the Kokoro files from the hub on first use when the folder is incomplete (sha256-checked, resumable); off: a missing folder means no Kokoro voice.',
    ),
  pull_precisions: z
    .array(z.enum(KOKORO_CONFIG_PRECISIONS))
    .min(1)
    .default(['fp32', 'q8'])
    .describe(
      'Precision variants a pull fetches (fp32 326 MB, q8 92 MB, fp16 163 MB); the load-time speed check picks among those present.',
    ),
  precision: z
    .enum(['auto', ...KOKORO_CONFIG_PRECISIONS])
    .default('auto')
    .describe(
      "Variant to run: 'auto' times each variant present on a short input at load and keeps the fastest that works (q8f16 is never tried: it crashes the CPU provider).",
    ),
  max_rtf: z
    .number()
    .positive()
    .default(1)
    .describe(
      'Real-time factor (synthesis time / audio time) at or above which Kokoro counts as too slow: measured on the load-time check and on every run; when reached, the answer continues with the espeak fallback and earshot_tts_kokoro_fallbacks_total counts it.',
    ),
  fallback_hold_ms: z
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe(
      'After a too-slow measurement, how long requests go straight to the fallback voice, in ms, before Kokoro is tried again.',
    ),
  max_queued_runs: positiveInt()
    .max(10_000)
    .default(16)
    .describe(
      'Graph runs (one per sentence or 510-phoneme segment) waiting for the Kokoro worker; beyond it synthesis fails with E_ENGINE_BUSY.',
    ),
  max_phonemes_per_run: z
    .number()
    .int()
    .min(16)
    .max(510)
    .default(510)
    .describe(
      "Phonemes per graph run; longer sentences are cut at a word boundary. 510 is the graph's limit (512 ids with the two pads).",
    ),
  speed_check_phonemes: z
    .number()
    .int()
    .min(8)
    .max(510)
    .default(64)
    .describe('Length of the load-time speed check input, in phonemes (~one short sentence).'),
  intra_op_threads: positiveInt()
    .max(256)
    .optional()
    .describe('onnxruntime intra-op threads of the Kokoro worker (default: all cores but one).'),
});

export type KokoroConfig = z.infer<typeof kokoroConfigSchema>;
