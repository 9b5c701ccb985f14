import type { ModelVariant } from '../model_location.ts';

// Which folder of the hub repository `earshot model pull` takes, and which of its files. The repository
// holds several exports side by side, each a folder with its own genai_config.json; the folder is found
// by listing the repository, never assumed.

export const MODEL_REPO_ID = 'microsoft/Phi-4-multimodal-instruct-onnx';
export const DEFAULT_REVISION = 'main';

/** The file that marks a folder as one complete export. */
export const VARIANT_MARKER_FILE = 'genai_config.json';

/** Name of the GPU export folder (float16 inputs/outputs). */
export const GPU_VARIANT_NAME = 'gpu-int4-rtn-block-32';
/** Where the GPU export sits in the repository. */
export const GPU_VARIANT_FOLDER = `gpu/${GPU_VARIANT_NAME}`;

/**
 * The CPU export (float32 inputs/outputs, int4 weights, accuracy level 4 = int8 activations in the int4
 * matmuls). Microsoft's build instructions for this model link its genai_config.json in this folder.
 */
export const CPU_VARIANT_NAME = 'cpu-int4-rtn-block-32-acc-level-4';
export const CPU_VARIANT_FOLDER = `cpu_and_mobile/${CPU_VARIANT_NAME}`;

/** The folder to name in messages before the listing has confirmed one. */
export function probableVariantFolder(variant: ModelVariant): string {
  return variant === 'gpu' ? GPU_VARIANT_FOLDER : CPU_VARIANT_FOLDER;
}

export type FolderChoice = { ok: true; folder: string } | { ok: false; reason: string };

const baseName = (path: string): string => path.split('/').pop() ?? path;

/** Folders (repository paths, '' for the root) that hold a genai_config.json, from a recursive listing. */
export function variantFoldersOf(filePaths: readonly string[]): string[] {
  const folders = filePaths
    .filter((p) => baseName(p) === VARIANT_MARKER_FILE)
    .map((p) => p.slice(0, Math.max(0, p.length - VARIANT_MARKER_FILE.length - 1)));
  return [...new Set(folders)].sort();
}

/** CPU candidates: int4 exports for the CPU ("cpu" in the path, no GPU/DirectML marker in the name). */
function isCpuInt4(folder: string): boolean {
  const name = baseName(folder).toLowerCase();
  return /int4/.test(name) && /cpu/.test(folder.toLowerCase()) && !/gpu|cuda|dml|directml/.test(name);
}

/**
 * Picks the variant folder among the folders that hold a genai_config.json (full repository paths).
 *   gpu: the folder named `gpu-int4-rtn-block-32`, wherever it sits.
 *   cpu: an int4 CPU folder; one with accuracy level 4 wins (int8 activations: the fast CPU kernels); among
 *        several of the same rank the expected name wins; otherwise the choice is refused as ambiguous.
 * Pure, so every layout is unit-tested without a server.
 */
export function chooseVariantFolder(variant: ModelVariant, folders: readonly string[]): FolderChoice {
  const found = folders.length === 0 ? '(none)' : folders.map((f) => (f === '' ? '(repository root)' : f)).join(', ');
  if (variant === 'gpu') {
    const gpu = folders.filter((f) => baseName(f) === GPU_VARIANT_NAME);
    if (gpu.length === 1) return { ok: true, folder: gpu[0] };
    if (gpu.length > 1)
      return { ok: false, reason: `several folders are named ${GPU_VARIANT_NAME}: ${gpu.join(', ')}` };
    return {
      ok: false,
      reason: `no folder named ${GPU_VARIANT_NAME} holds a ${VARIANT_MARKER_FILE}; folders with one: ${found}`,
    };
  }
  const cpu = folders.filter(isCpuInt4);
  if (cpu.length === 0) {
    return { ok: false, reason: `no int4 CPU folder holds a ${VARIANT_MARKER_FILE}; folders with one: ${found}` };
  }
  const level4 = cpu.filter((f) => /acc-level-4/i.test(baseName(f)));
  const best = level4.length > 0 ? level4 : cpu;
  if (best.length === 1) return { ok: true, folder: best[0] };
  const expected = best.filter((f) => baseName(f) === CPU_VARIANT_NAME);
  if (expected.length === 1) return { ok: true, folder: expected[0] };
  return { ok: false, reason: `several int4 CPU folders fit equally well, choose one by hand: ${best.join(', ')}` };
}
