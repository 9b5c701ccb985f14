import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtureModel, FIXTURE_FILES } from '../../../src/engine/phi4mm/fixture/index.ts';
import { checkModelDir } from '../../../src/engine/phi4mm/model_check.ts';
import { copyModelDir, editGraph, renameInput, setInputType } from './model_copy.ts';

let fixture: string;
const copies: string[] = [];
function copy(options?: { omit?: string[] }): string {
  const dir = copyModelDir(fixture, options);
  copies.push(dir);
  return dir;
}

beforeAll(async () => {
  fixture = await ensureFixtureModel('tiny');
}, 60_000);
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('checkModelDir', () => {
  it('accepts the tiny fixture model and summarises it', async () => {
    const result = await checkModelDir(fixture);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.summary).toMatchObject({
      floatType: 'float32',
      numLayers: 2,
      hiddenSize: 64,
      vocabSize: 200064,
      vision: true,
    });
    // As exported: 4 LoRA tensors on 7 projections of 2 layers are graph inputs; none after the rewrite.
    expect(result.summary.loraInputs).toEqual({ speech: 0, text: 56 });
    expect(result.summary.notes).toEqual([]);
    expect(result.summary.lora).toMatchObject({
      speechAdapter: 'applied',
      graphLoraRank: 32,
      speechAdapterRank: 64,
      branches: 14,
      loraGraphInputs: 0,
      problems: [],
    });
    expect(result.summary.residentBytesEstimate).toBeGreaterThan(0);
  });

  it('notes the absent vision graph of the single-hook fixture', async () => {
    const result = await checkModelDir(await ensureFixtureModel('tiny', 1, { layout: 'single-hook' }));
    expect(result.ok && result.summary.notes).toEqual([
      'phi-4-mm-vision.onnx is absent: image input is unavailable (vision is optional).',
    ]);
    expect(result.ok && result.summary.lora).toMatchObject({
      speechAdapter: 'applied',
      graphLoraRank: 8,
      speechAdapterRank: 8,
      branches: 2,
    });
  });

  it('accepts the float16 (GPU layout) fixture', async () => {
    const result = await checkModelDir(await ensureFixtureModel('tiny', 1, { floatType: 'float16' }));
    expect(result.ok && result.summary.floatType).toBe('float16');
    // The GPU types: float16 LoRA scales in the graph and in the adapter, which still applies.
    expect(result.ok && result.summary.lora).toMatchObject({
      speechAdapter: 'applied',
      speechAdapterRank: 64,
      loraGraphInputs: 0,
    });
  }, 60_000);

  it('reports a renamed input as missing plus an unexpected input', async () => {
    const dir = copy();
    editGraph(dir, FIXTURE_FILES.speech, (g) => renameInput(g, 'audio_sizes', 'audio_lengths'));
    expect(await checkModelDir(dir)).toEqual({
      ok: false,
      differences: [
        'phi-4-mm-speech.onnx: input "audio_sizes" is missing',
        'phi-4-mm-speech.onnx: unexpected input "audio_lengths" (int64 [num_audios]) has no default value, and the engine does not feed it',
      ],
    });
  });

  it('reports a wrong element type', async () => {
    const dir = copy();
    editGraph(dir, FIXTURE_FILES.text, (g) => setInputType(g, 'attention_mask', 6));
    expect(await checkModelDir(dir)).toEqual({
      ok: false,
      differences: ['phi-4-mm-text.onnx: input "attention_mask": expected int64, found int32'],
    });
  });

  it('reports a float type that disagrees with the text graph', async () => {
    const dir = copy();
    editGraph(dir, FIXTURE_FILES.embedding, (g) => setInputType(g, 'audio_features', 10));
    expect(await checkModelDir(dir)).toEqual({
      ok: false,
      differences: ['phi-4-mm-embedding.onnx: input "audio_features": expected float32, found float16'],
    });
  });

  it("reports missing files, including a graph's external data", async () => {
    const dir = copy({ omit: [FIXTURE_FILES.tokenizer, `${FIXTURE_FILES.text}.data`] });
    expect(await checkModelDir(dir)).toEqual({
      ok: false,
      differences: [
        `tokenizer.json is missing (${join(dir, 'tokenizer.json')})`,
        'phi-4-mm-text.onnx: external data file phi-4-mm-text.onnx.data is missing',
      ],
    });
  });

  it('lists every difference at once, naming each file', async () => {
    const dir = copy({ omit: [FIXTURE_FILES.speechAdapter] });
    editGraph(dir, FIXTURE_FILES.speech, (g) => renameInput(g, 'audio_sizes', 'audio_lengths'));
    editGraph(dir, FIXTURE_FILES.text, (g) => {
      setInputType(g, 'attention_mask', 6);
      renameInput(g, 'past_key_values.1.value', 'past.1.value');
    });
    unlinkSync(join(dir, FIXTURE_FILES.speechProcessor));
    const result = await checkModelDir(dir);
    expect(result).toEqual({
      ok: false,
      differences: [
        `speech_processor.json is missing (${join(dir, 'speech_processor.json')})`,
        `phi-4-mm-speech.onnx_adapter is missing (${join(dir, 'phi-4-mm-speech.onnx_adapter')})`,
        'phi-4-mm-speech.onnx: input "audio_sizes" is missing',
        'phi-4-mm-speech.onnx: unexpected input "audio_lengths" (int64 [num_audios]) has no default value, and the engine does not feed it',
        'phi-4-mm-text.onnx: input "attention_mask": expected int64, found int32',
        'phi-4-mm-text.onnx: input "past_key_values.1.value" is missing',
        'phi-4-mm-text.onnx: unexpected input "past.1.value" (float32 [batch_size, 2, past_sequence_length, 16]) has no default value, and the engine does not feed it',
      ],
    });
  });

  it('reports a missing directory and a missing genai_config.json with the fix', async () => {
    const missing = await checkModelDir('/nonexistent/earshot-model');
    expect(missing).toEqual({ ok: false, differences: [expect.stringContaining('earshot model pull')] });
    const dir = copy({ omit: [FIXTURE_FILES.genaiConfig] });
    const noConfig = await checkModelDir(dir);
    expect(noConfig.ok).toBe(false);
    if (!noConfig.ok) expect(noConfig.differences[0]).toContain(`${join(dir, 'genai_config.json')} is missing`);
  });
});

describe('checkModelDir adapter', () => {
  it('reports, without failing the layout, an adapter that does not fit the LoRA branches', async () => {
    const { encodeAdapter } = await import('../../../src/engine/phi4mm/adapter_format.ts');
    const { writeFileSync } = await import('node:fs');
    const dir = copy();
    writeFileSync(
      join(dir, FIXTURE_FILES.speechAdapter),
      encodeAdapter([
        {
          name: 'model.layers.0.attn.q_proj.lora_A.MatMul.weight_Q4',
          dims: [8, 1, 16],
          dataType: 2,
          rawData: new Uint8Array(128),
        },
      ]),
    );
    const result = await checkModelDir(dir);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.summary.lora.speechAdapter).toBe('refused');
      expect(result.summary.lora.problems).toEqual([
        'model.layers.0.attn.q_proj: the adapter lacks model.layers.0.attn.q_proj.lora_A.MatMul.weight_scales, model.layers.0.attn.q_proj.lora_B.MatMul.weight_Q4, model.layers.0.attn.q_proj.lora_B.MatMul.weight_scales',
      ]);
    }
  });
});
