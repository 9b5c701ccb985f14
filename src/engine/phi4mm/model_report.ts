import { resolve } from 'node:path';
import { checkModelDir, formatDifferences, type ModelCheckSummary } from './model_check.ts';
import type { SpeechAdapterStatus } from './lora_rewrite.ts';

// The report of `earshot model check`: the layout check plus what the engine's load-time LoRA rewrite
// will do, in the stable JSON form (snake_case keys) and in words.

export interface ModelReport {
  /** The engine can load the directory with its speech LoRA in effect (or merged) and no LoRA graph inputs left. */
  ok: boolean;
  dir: string;
  /** cpu = float32 graphs, gpu = float16 graphs; null when the layout could not be read. */
  variant: 'cpu' | 'gpu' | null;
  speech_adapter: SpeechAdapterStatus | null;
  speech_adapter_rank: number | null;
  graph_lora_rank: number | null;
  /** LoRA tensors still graph inputs after the rewrite: must be 0. */
  lora_graph_inputs: number | null;
  /** Weight bytes the loaded graphs hold before any session (the KV cache comes on top, per session). */
  resident_bytes_estimate: number | null;
  /** Sentences: layout differences, adapter refusals, why the speech LoRA is not in effect. */
  problems: string[];
  /** The layout summary when the layout matched. */
  summary?: ModelCheckSummary;
}

export async function modelReport(dir: string): Promise<ModelReport> {
  const result = await checkModelDir(dir);
  if (!result.ok) {
    return {
      ok: false,
      dir: resolve(dir),
      variant: null,
      speech_adapter: null,
      speech_adapter_rank: null,
      graph_lora_rank: null,
      lora_graph_inputs: null,
      resident_bytes_estimate: null,
      problems: result.differences,
    };
  }
  const s = result.summary;
  const lora = s.lora;
  const inEffect = lora.speechAdapter === 'applied' || lora.speechAdapter === 'merged';
  const problems = [...lora.problems];
  if (!inEffect)
    problems.push(
      'without the speech LoRA the model may refuse to transcribe (the engine still starts, on the base model)',
    );
  if (lora.loraGraphInputs > 0)
    problems.push(
      `${lora.loraGraphInputs} LoRA tensors stay graph inputs after the rewrite (their branches were not recognised): every token pays for them`,
    );
  return {
    ok: inEffect && lora.loraGraphInputs === 0,
    dir: s.dir,
    variant: s.floatType === 'float16' ? 'gpu' : 'cpu',
    speech_adapter: lora.speechAdapter,
    speech_adapter_rank: lora.speechAdapterRank ?? null,
    graph_lora_rank: lora.graphLoraRank ?? null,
    lora_graph_inputs: lora.loraGraphInputs,
    resident_bytes_estimate: s.residentBytesEstimate,
    problems,
    summary: s,
  };
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function adapterSentence(r: ModelReport): string {
  const graph =
    r.graph_lora_rank === null
      ? 'the decoder has no LoRA branches'
      : `the decoder's LoRA branches are rank ${r.graph_lora_rank}`;
  switch (r.speech_adapter) {
    case 'applied':
      return `speech LoRA: applied at rank ${r.speech_adapter_rank} (${graph}; the engine rewrites them to the adapter's rank at load)`;
    case 'merged':
      return `speech LoRA: nothing to apply (${graph}; an export with the LoRA merged into its weights)`;
    case 'refused':
      return `speech LoRA: REFUSED${r.speech_adapter_rank ? ` (adapter rank ${r.speech_adapter_rank})` : ''}; ${graph}, removed at load`;
    default:
      return `speech LoRA: absent; ${graph}, removed at load`;
  }
}

/** The report in words, one line each; `ok` decides the first word. */
export function formatModelReport(r: ModelReport): string[] {
  if (r.summary === undefined) return [formatDifferences(r.dir, r.problems)];
  const s = r.summary;
  return [
    `${r.ok ? 'OK' : 'NOT OK'}: ${r.dir}`,
    `  ${r.variant} variant (${s.floatType} graphs), ${s.numLayers} layers, hidden ${s.hiddenSize}, vocab ${s.vocabSize}`,
    `  ${adapterSentence(r)}`,
    `  LoRA tensors still graph inputs after the rewrite: ${r.lora_graph_inputs}${r.lora_graph_inputs === 0 ? '' : ' (should be 0)'}`,
    `  resident weights: about ${gib(r.resident_bytes_estimate ?? 0)} before any session`,
    `  vision: ${s.vision ? 'present (not loaded by the engine)' : 'absent'}`,
    ...s.files.map((f) => `  ${f.name} (${f.sizeBytes} bytes)`),
    ...s.notes.map((n) => `  note: ${n}`),
    ...r.problems.map((p) => `  problem: ${p}`),
  ];
}
