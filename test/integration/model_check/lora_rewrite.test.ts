import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineLogger } from '../../../src/engine/engine_logger.ts';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import { decodeAdapter, encodeAdapter } from '../../../src/engine/phi4mm/adapter_format.ts';
import { FIXTURE_FILES, FIXTURE_PRESETS, generateFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { findLoraBranches } from '../../../src/engine/phi4mm/lora_branches.ts';
import { findModelFiles } from '../../../src/engine/phi4mm/model_dir.ts';
import { loadPhi4Model } from '../../../src/engine/phi4mm/onnx_sessions.ts';
import { prepareTextGraph, rewriteTextGraph } from '../../../src/engine/phi4mm/text_graph_prepare.ts';
import { loadTokenizer } from '../../../src/engine/phi4mm/tokenizer.ts';
import { collect, SINGLE_THREAD, testPcm } from '../engine_host/engine_fixture.ts';

// The load-time LoRA rewrite on the published-layout fixture (tiny preset: graph rank 32, speech
// adapter rank 64, so lora_B goes from 1 to 2 blocks of 32; float32, accuracy level 0).

const root = mkdtempSync(join(tmpdir(), 'earshot-lora-'));
let published: string;
let baked: string;
const PROMPT = '<|user|>Hello there, how are you?<|end|><|assistant|>';

afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  published = generateFixtureModel({ outDir: join(root, 'published'), seed: 3 }).dir;
  baked = generateFixtureModel({ outDir: join(root, 'baked'), seed: 3, bakeSpeechAdapter: true }).dir;
}, 120_000);

/** A copy of the published fixture (hard links) with its own cache files and, optionally, another adapter. */
function copyModel(name: string, adapter?: Uint8Array): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const file of readdirSync(published))
    if (!file.includes('.earshot-')) linkSync(join(published, file), join(dir, file));
  if (adapter) {
    rmSync(join(dir, FIXTURE_FILES.speechAdapter));
    writeFileSync(join(dir, FIXTURE_FILES.speechAdapter), adapter);
  }
  return dir;
}

/** Logits of the last prompt position, then of one decode step. */
async function logitsOf(dir: string, options: Parameters<typeof loadPhi4Model>[1] = {}): Promise<Float32Array[]> {
  const model = await loadPhi4Model(dir, { sessionOptions: SINGLE_THREAD, ...options });
  try {
    const tokenizer = await loadTokenizer(dir);
    const s = new GenerationSession(model, tokenizer);
    const prompt = Float32Array.from((await s.append(tokenizer.encode(PROMPT)))!);
    const step = Float32Array.from((await s.append([4242]))!);
    s.dispose();
    return [prompt, step];
  } finally {
    await model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('speech adapter applied by rewriting the LoRA branches', () => {
  it('gives logits bit-identical to a fixture generated at the adapter rank with its values as constants', async () => {
    const dir = copyModel('applied');
    const model = await loadPhi4Model(dir, { sessionOptions: SINGLE_THREAD });
    expect(model.lora).toMatchObject({
      speechAdapter: 'applied',
      graphLoraRank: 32,
      speechAdapterRank: 64,
      branches: 14,
      appliedBranches: 14,
      loraGraphInputs: 0,
      problems: [],
    });
    // q/k/v and gate/up read one input through identical lora_A copies: one node each serves them (3 fewer per layer).
    expect(model.lora!.sharedLoraA).toBe(6);
    await model.dispose();
    // The reference keeps its graph as generated (the initializer-overrides path does not rewrite LoRA).
    const [expected, applied] = [await logitsOf(baked, { initializerOverrides: { text: [] } }), await logitsOf(dir)];
    for (let i = 0; i < 2; i++)
      expect(Buffer.from(applied[i].buffer).equals(Buffer.from(expected[i].buffer))).toBe(true);
  });

  it('changes the logits; removing the branches equals the exported zero branches exactly', async () => {
    const [applied, removed, zeros] = [
      await logitsOf(copyModel('changes')),
      await logitsOf(copyModel('removed'), { applySpeechAdapter: false }),
      await logitsOf(published, { initializerOverrides: { text: [] } }),
    ];
    expect(maxAbsDiff(applied[0], removed[0])).toBeGreaterThan(1e-2);
    for (let i = 0; i < 2; i++) expect(Buffer.from(removed[i].buffer).equals(Buffer.from(zeros[i].buffer))).toBe(true);
  });

  it('one rewritten hook matches an independent float reference ((q - 8) * scale, low nibble first) within 1e-5', async () => {
    const { model } = rewriteTextGraph(findModelFiles(published), {
      applySpeechAdapter: true,
      lastPositionLogits: false,
      logitsName: 'logits',
    });
    const graph = model.graph!;
    // o_proj has a lora_A of its own (q/k/v share one after the rewrite).
    const branch = findLoraBranches(graph).branches.find((b) => b.name === 'model.layers.1.attn.o_proj')!;
    expect(branch.aAttrs).toMatchObject({ K: FIXTURE_PRESETS.tiny.numHeads * FIXTURE_PRESETS.tiny.headSize, N: 64 });
    expect(branch.bAttrs).toMatchObject({ K: 64, N: FIXTURE_PRESETS.tiny.hiddenSize });
    const init = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
    const hook = onnxProto.onnx.ModelProto.create({
      irVersion: model.irVersion,
      opsetImport: model.opsetImport,
      graph: {
        name: 'hook',
        node: [
          { ...branch.a, input: ['x', ...branch.a.input!.slice(1)] },
          { ...branch.b, output: ['y'] },
        ],
        input: [
          { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 64 }] } } } },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
        initializer: branch.tensors.map((name) => init.get(name)!),
      },
    });
    const session = await ort.InferenceSession.create(onnxProto.onnx.ModelProto.encode(hook).finish(), SINGLE_THREAD);
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [1, 64]) })).y.data as Float32Array;
    await session.release();

    // Reference in float64, straight from the adapter file (not from the rewritten graph).
    const params = new Map(
      decodeAdapter(readFileSync(join(published, FIXTURE_FILES.speechAdapter))).parameters.map((p) => [p.name, p]),
    );
    const matmul = (input: Float64Array, q4Name: string, scalesName: string): Float64Array => {
      const q4 = params.get(q4Name)!;
      const scalesRaw = params.get(scalesName)!.rawData;
      const scales = new Float32Array(
        scalesRaw.buffer.slice(scalesRaw.byteOffset, scalesRaw.byteOffset + scalesRaw.byteLength),
      );
      const [n, blocks, blob] = q4.dims;
      const out = new Float64Array(n);
      for (let row = 0; row < n; row++) {
        for (let k = 0; k < input.length; k++) {
          const block = Math.floor(k / 32);
          const byte = q4.rawData[(row * blocks + block) * blob + Math.floor((k % 32) / 2)];
          const q = k % 2 === 0 ? byte & 0x0f : byte >> 4;
          out[row] += input[k] * (q - 8) * scales[row * blocks + block];
        }
      }
      return out;
    };
    const [aQ4, aScales, bQ4, bScales] = branch.tensors;
    const expected = matmul(matmul(Float64Array.from(x), aQ4, aScales), bQ4, bScales);
    const scale = Math.max(...expected.map(Math.abs));
    const worst = Math.max(...Array.from(expected, (e, i) => Math.abs(e - y[i])));
    expect(scale).toBeGreaterThan(1e-3);
    expect(worst / scale).toBeLessThan(1e-5);
  });
});

describe('an adapter that does not fit', () => {
  function misfitAdapter(): Uint8Array {
    const params = decodeAdapter(readFileSync(join(published, FIXTURE_FILES.speechAdapter))).parameters.map((p) => ({
      ...p,
    }));
    const bQ4 = params.find((p) => p.name === 'model.layers.0.attn.k_proj.lora_B.MatMul.weight_Q4')!;
    bQ4.dims = [bQ4.dims[0] + 1, ...bQ4.dims.slice(1)]; // N that the node does not have
    bQ4.rawData = new Uint8Array(bQ4.dims.reduce((a, b) => a * b, 1));
    const scales = params.find((p) => p.name === 'model.layers.1.mlp.up_proj.lora_A.MatMul.weight_scales')!;
    scales.dataType = 10; // float16 where the graph has float32
    scales.rawData = scales.rawData.slice(0, scales.rawData.length / 2);
    params.push({
      name: 'model.layers.9.attn.q_proj.lora_A.MatMul.weight_Q4',
      dims: [64, 2, 16],
      dataType: 2,
      rawData: new Uint8Array(2048),
    });
    return encodeAdapter(params.filter((p) => p.name !== 'model.layers.1.mlp.down_proj.lora_B.MatMul.weight_scales'));
  }

  it('is refused with every mismatch listed; the engine loads the base model and transcribes', async () => {
    const dir = copyModel('misfit', misfitAdapter());
    const warnings: { obj: object; msg: string }[] = [];
    const log: EngineLogger = {
      info: () => undefined,
      warn: (obj, msg) => warnings.push({ obj, msg }),
      error: () => undefined,
    };
    const engine = await Phi4Engine.load({ modelDir: dir, sessionOptions: SINGLE_THREAD, log });
    try {
      expect(engine.info.adapter.status).toBe('refused');
      const mismatches = engine.info.adapter.status === 'refused' ? engine.info.adapter.mismatches : [];
      expect(mismatches).toEqual([
        "model.layers.1.mlp.up_proj.lora_A.MatMul.weight_scales: data type float16 but the graph's tensor is float32",
        'model.layers.9.attn.q_proj.lora_A.MatMul.weight_Q4: no LoRA branch of the text graph has a tensor of this name',
        'model.layers.0.attn.k_proj.lora_B.MatMul.weight_Q4: shape [33, 2, 16] but lora_B (N 32, block 32) at rank 64 needs [32, 2, 16]',
        'model.layers.1.mlp.down_proj: the adapter lacks model.layers.1.mlp.down_proj.lora_B.MatMul.weight_scales',
      ]);
      expect(engine.model.lora).toMatchObject({ removedBranches: 14, loraGraphInputs: 0 });
      expect(warnings.map((w) => w.msg).join('\n')).toMatch(
        /refused \(4 problem\(s\)\); the base model runs without the speech LoRA and may refuse to transcribe/,
      );
      const audio = await engine.encodeAudio(testPcm(1, 16000), 16000);
      const s = await engine.createSession();
      await s.appendUser([
        { type: 'audio', audio },
        { type: 'text', text: 'Transcribe the audio clip into text.' },
      ]);
      const r = await collect(s.generate({ maxNewTokens: 5, stopIds: [] }));
      expect(r.done.usage.completionTokens).toBe(5);
      await s.dispose();
    } finally {
      await engine.close();
    }
  });

  it('a corrupt adapter file is refused too, never a failed load', async () => {
    const dir = copyModel(
      'corrupt',
      new Uint8Array(readFileSync(join(published, FIXTURE_FILES.speechAdapter)).subarray(0, 40)),
    );
    const model = await loadPhi4Model(dir, { sessionOptions: SINGLE_THREAD });
    expect(model.lora).toMatchObject({ speechAdapter: 'refused', loraGraphInputs: 0, removedBranches: 14 });
    expect(model.lora!.problems[0]).toMatch(/^phi-4-mm-speech\.onnx_adapter could not be read: .*corrupt or truncated/);
    await model.dispose();
  });
});

describe('the rewritten-graph cache', () => {
  it('is written beside the model, reused by the next start, and redone when the graph or the adapter changes', async () => {
    const dir = copyModel('cache');
    const files = () => findModelFiles(dir);
    const options = { applySpeechAdapter: true, lastPositionLogits: true, logitsName: 'logits' };
    const first = prepareTextGraph(files(), options);
    expect(first.cache).toMatchObject({ location: 'model_dir', reused: false });
    expect(first.path).toBe(first.cache.path);
    expect(first.cache.path!.startsWith(join(dir, `${FIXTURE_FILES.text}.earshot-`))).toBe(true);
    expect(prepareTextGraph(files(), options).cache).toMatchObject({ reused: true, path: first.cache.path });
    // Another option is another entry; the first one stays valid.
    const off = prepareTextGraph(files(), { ...options, applySpeechAdapter: false });
    expect(off.cache.reused).toBe(false);
    expect(off.lora.speechAdapter).toBe('absent');
    expect(prepareTextGraph(files(), options).cache.reused).toBe(true);

    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, FIXTURE_FILES.speechAdapter), later, later);
    const afterAdapter = prepareTextGraph(files(), options);
    expect(afterAdapter.cache.reused).toBe(false);
    expect(afterAdapter.lora.speechAdapter).toBe('applied');
    utimesSync(join(dir, FIXTURE_FILES.text), later, later);
    expect(prepareTextGraph(files(), options).cache.reused).toBe(false);
    expect(prepareTextGraph(files(), options).cache.reused).toBe(true);
    // Entries built from superseded files were deleted: one per option set remains.
    expect(readdirSync(dir).filter((f) => f.includes('.earshot-') && f.endsWith('.onnx'))).toHaveLength(1);
  });

  it('goes to the cache directory given when the model directory is not to be written', async () => {
    const dir = copyModel('elsewhere');
    const cacheDir = join(root, 'graph-cache');
    const prepared = prepareTextGraph(findModelFiles(dir), {
      applySpeechAdapter: true,
      lastPositionLogits: true,
      logitsName: 'logits',
      cacheDir,
    });
    expect(prepared.cache).toMatchObject({ location: 'user_cache', reused: false });
    expect(prepared.path).toBeUndefined();
    expect(readdirSync(dir).some((f) => f.includes('.earshot-'))).toBe(false);
    const model = await loadPhi4Model(dir, { sessionOptions: SINGLE_THREAD, graphCacheDir: cacheDir });
    expect(model.textGraphCache).toMatchObject({ location: 'user_cache', reused: true });
    await model.dispose();
  });
});
