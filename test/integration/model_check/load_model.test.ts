import * as ort from 'onnxruntime-node';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { decodeAdapter } from '../../../src/engine/phi4mm/adapter_format.ts';
import { ensureFixtureModel, FIXTURE_FILES } from '../../../src/engine/phi4mm/fixture/index.ts';
import { loadPhi4Model, type Phi4Model } from '../../../src/engine/phi4mm/onnx_sessions.ts';
import { copyModelDir, editGraph, setInputType } from './model_copy.ts';

let fixture: string;
const copies: string[] = [];
beforeAll(async () => {
  // The initializer-overrides path works on the exported LoRA inputs as they are: the one-hook layout.
  fixture = await ensureFixtureModel('tiny', 1, { layout: 'single-hook' });
}, 60_000);
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function rejection(promise: Promise<unknown>): Promise<EarshotError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(EarshotError);
    return err as EarshotError;
  }
  throw new Error('expected a rejection');
}

async function prefillLogits(model: Phi4Model, embeds: Float32Array, length: number): Promise<Float32Array> {
  const { io } = model;
  const feeds: Record<string, ort.Tensor> = {
    [io.names.text.inputsEmbeds]: new ort.Tensor('float32', embeds, [1, length, io.hiddenSize]),
    [io.names.text.attentionMask]: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
  };
  for (let i = 0; i < io.numLayers; i++) {
    for (const name of [io.names.text.pastKeys[i], io.names.text.pastValues[i]]) {
      feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, io.numKvHeads, 0, io.headSize]);
    }
  }
  const out = await model.text.run({ ...feeds, ...model.textFeeds(true) });
  return out[io.names.text.logits].data as Float32Array;
}

describe('loadPhi4Model', () => {
  it('loads the fixture and resolves the I/O contract from genai_config.json', async () => {
    const model = await loadPhi4Model(fixture);
    try {
      expect(model.io).toMatchObject({
        floatType: 'float32',
        numLayers: 2,
        numKvHeads: 2,
        numHeads: 4,
        headSize: 16,
        hiddenSize: 64,
        vocabSize: 200064,
      });
      expect(model.io.names.text.pastKeys).toEqual(['past_key_values.0.key', 'past_key_values.1.key']);
      expect(model.io.names.text.presentValues).toEqual(['present.0.value', 'present.1.value']);
      expect(model.io.names.speech.attentionMask).toBe('audio_attention_mask');
      expect(model.io.loraInputs.text).toHaveLength(8);
      expect(model.io.loraInputs.speech).toEqual([
        'speech.encoder.out.lora_A.MatMul.weight',
        'speech.encoder.out.lora_B.MatMul.weight',
      ]);
      expect(model.vision).toBeUndefined();
      expect([...model.text.inputNames].sort()).toEqual([
        'attention_mask',
        'earshot_logits_start',
        'inputs_embeds',
        'past_key_values.0.key',
        'past_key_values.0.value',
        'past_key_values.1.key',
        'past_key_values.1.value',
      ]);
      expect(model.config.model.eos_token_id).toEqual([200020, 199999]);
    } finally {
      await model.dispose();
      await model.dispose(); // idempotent
    }
  });

  it('bakes adapter tensors into the LoRA initializers; zeros reproduce the base model', async () => {
    const adapter = decodeAdapter(new Uint8Array(readFileSync(join(fixture, FIXTURE_FILES.speechAdapter))));
    const embeds = new Float32Array(3 * 64).map((_, i) => Math.sin(i) * 0.05);
    const base = await loadPhi4Model(fixture, { applySpeechAdapter: false });
    const adapted = await loadPhi4Model(fixture, { initializerOverrides: { text: adapter.parameters } });
    const zeros = await loadPhi4Model(fixture, {
      initializerOverrides: {
        text: adapter.parameters.map((p) => ({ ...p, rawData: new Uint8Array(p.rawData.length) })),
      },
    });
    try {
      const baseLogits = await prefillLogits(base, embeds, 3);
      const adaptedLogits = await prefillLogits(adapted, embeds, 3);
      const zeroLogits = await prefillLogits(zeros, embeds, 3);
      let adaptedDiff = 0;
      let zeroDiff = 0;
      for (let i = 0; i < baseLogits.length; i++) {
        adaptedDiff = Math.max(adaptedDiff, Math.abs(adaptedLogits[i] - baseLogits[i]));
        zeroDiff = Math.max(zeroDiff, Math.abs(zeroLogits[i] - baseLogits[i]));
      }
      expect(adaptedDiff).toBeGreaterThan(1e-4);
      expect(zeroDiff).toBe(0);
    } finally {
      await Promise.all([base.dispose(), adapted.dispose(), zeros.dispose()]);
    }
  });

  it('rejects overrides whose name or shape does not match, listing each', async () => {
    const err = await rejection(
      loadPhi4Model(fixture, {
        initializerOverrides: {
          text: [
            { name: 'no.such.tensor', dims: [1], dataType: 1, rawData: new Uint8Array(4) },
            {
              name: 'model.layers.0.attn.q_proj.lora_A.MatMul.weight_Q4',
              dims: [8, 1, 16],
              dataType: 2,
              rawData: new Uint8Array(128),
            },
          ],
        },
      }),
    );
    expect(err.code).toBe('E_MODEL_INVALID');
    expect(err.message).toContain('"no.such.tensor" is not an initializer of phi-4-mm-text.onnx');
    expect(err.message).toContain('graph has type 2 [8, 2, 16], override has type 2 [8, 1, 16]');
  });

  it('fails with E_MODEL_MISSING naming the path and the fix', async () => {
    const err = await rejection(loadPhi4Model('/nonexistent/phi4'));
    expect(err.code).toBe('E_MODEL_MISSING');
    expect(err.message).toContain('/nonexistent/phi4');
    expect(err.message).toContain('earshot model pull');

    const dir = copyModelDir(fixture, { omit: [FIXTURE_FILES.embedding, FIXTURE_FILES.tokenizer] });
    copies.push(dir);
    const partial = await rejection(loadPhi4Model(dir));
    expect(partial.code).toBe('E_MODEL_MISSING');
    expect(partial.message).toContain(join(dir, FIXTURE_FILES.embedding));
    expect(partial.message).toContain(join(dir, FIXTURE_FILES.tokenizer));
    expect(partial.message).toContain('earshot model pull');
  });

  it('fails with E_MODEL_INVALID listing every difference before creating sessions', async () => {
    const dir = copyModelDir(fixture);
    copies.push(dir);
    editGraph(dir, FIXTURE_FILES.text, (g) => setInputType(g, 'attention_mask', 6));
    editGraph(dir, FIXTURE_FILES.speech, (g) => setInputType(g, 'audio_sizes', 6));
    const err = await rejection(loadPhi4Model(dir));
    expect(err.code).toBe('E_MODEL_INVALID');
    expect(err.message).toContain('phi-4-mm-speech.onnx: input "audio_sizes": expected int64, found int32');
    expect(err.message).toContain('phi-4-mm-text.onnx: input "attention_mask": expected int64, found int32');
  });
});
