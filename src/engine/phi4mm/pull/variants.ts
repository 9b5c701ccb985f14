import type { ModelVariant } from '../../model_location.ts';

// What `earshot model pull` fetches: one folder of the hub repository per variant.

export const MODEL_REPO_ID = 'microsoft/Phi-4-multimodal-instruct-onnx';
export const DEFAULT_REVISION = 'main';

/** Folder of the GPU export (float16 inputs/outputs): confirmed in docs/phi4mm.md section 1. */
export const GPU_VARIANT_FOLDER = 'gpu/gpu-int4-rtn-block-32';

/** Parent folder of the CPU export; the exact subfolder name is UNCONFIRMED, so it is found by listing. */
export const CPU_PARENT_FOLDER = 'cpu';

/** The CPU subfolder name we expect (probable, unconfirmed); preferred when several int4 folders exist. */
export const CPU_EXPECTED_SUBFOLDER = 'cpu-int4-rtn-block-32-acc-level-4';

/**
 * Files a variant folder holds (docs/phi4mm.md section 1), used only to tell a user without network what to
 * place by hand. The download itself takes whatever the hub lists, so an extra or renamed file is not an error.
 */
export const EXPECTED_VARIANT_FILES: readonly string[] = [
  'phi-4-mm-speech.onnx', 'phi-4-mm-speech.onnx.data',
  'phi-4-mm-vision.onnx', 'phi-4-mm-vision.onnx.data',
  'phi-4-mm-embedding.onnx', 'phi-4-mm-embedding.onnx.data',
  'phi-4-mm-text.onnx', 'phi-4-mm-text.onnx.data',
  'phi-4-mm-speech.onnx_adapter', 'phi-4-mm-vision.onnx_adapter',
  'genai_config.json', 'speech_processor.json', 'vision_processor.json',
  'tokenizer.json', 'tokenizer_config.json',
];

/** The folder name to show in messages before the CPU folder is known. */
export function probableVariantFolder(variant: ModelVariant): string {
  return variant === 'gpu' ? GPU_VARIANT_FOLDER : `${CPU_PARENT_FOLDER}/${CPU_EXPECTED_SUBFOLDER}`;
}

export type CpuFolderChoice = { ok: true; folder: string } | { ok: false; reason: string };

/**
 * Picks the CPU variant folder among the subfolders of `cpu/` (full repo paths, e.g. `cpu/cpu-int4-...`).
 * The expected name wins when present; otherwise exactly one folder whose name mentions int4 must exist.
 * Pure so the ambiguous cases are unit-tested without a server.
 */
export function chooseCpuFolder(subfolders: readonly string[]): CpuFolderChoice {
  const names = subfolders.map((p) => p.split('/').pop() ?? p);
  const exact = subfolders.find((_, i) => names[i] === CPU_EXPECTED_SUBFOLDER);
  if (exact !== undefined) return { ok: true, folder: exact };
  const int4 = subfolders.filter((_, i) => /int4/i.test(names[i]));
  if (int4.length === 1) return { ok: true, folder: int4[0] };
  const existing = subfolders.length === 0 ? '(none)' : subfolders.join(', ');
  const reason = int4.length === 0
    ? `no int4 folder under "${CPU_PARENT_FOLDER}/" in the hub repository; folders found: ${existing}`
    : `several int4 folders under "${CPU_PARENT_FOLDER}/" and none is named "${CPU_EXPECTED_SUBFOLDER}": ${int4.join(', ')}`;
  return { ok: false, reason };
}
