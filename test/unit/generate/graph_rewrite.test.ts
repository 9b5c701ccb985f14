import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { sliceLogitsToLastPosition } from '../../../src/engine/phi4mm/graph_rewrite.ts';
import { findModelFiles } from '../../../src/engine/phi4mm/model_dir.ts';
import { loadPhi4Model, type Phi4Model } from '../../../src/engine/phi4mm/onnx_sessions.ts';

// The text graph rewritten to run the lm_head on the last position only must give exactly the original
// graph's last-position logits and the same KV outputs, in float32 and float16.

const opened: { release(): Promise<void> }[] = [];
afterAll(async () => {
  for (const s of opened) await s.release();
});

function feedsFor(model: Phi4Model, seqLength: number): Record<string, ort.Tensor> {
  const { hiddenSize, numLayers, numKvHeads, headSize, floatType, names } = model.io;
  const n = names.text;
  const values = new Float32Array(seqLength * hiddenSize).map((_, i) => Math.sin(i * 0.37) * 0.5);
  const embeds =
    floatType === 'float32'
      ? new ort.Tensor('float32', values, [1, seqLength, hiddenSize])
      : new ort.Tensor(
          'float16',
          Uint16Array.from(values, (v) => f16(v)),
          [1, seqLength, hiddenSize],
        );
  const feeds: Record<string, ort.Tensor> = {
    [n.inputsEmbeds]: embeds,
    [n.attentionMask]: new ort.Tensor('int64', new BigInt64Array(seqLength).fill(1n), [1, seqLength]),
  };
  const empty = () =>
    floatType === 'float32'
      ? new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headSize])
      : new ort.Tensor('float16', new Uint16Array(0), [1, numKvHeads, 0, headSize]);
  for (let i = 0; i < numLayers; i++) {
    feeds[n.pastKeys[i]] = empty();
    feeds[n.pastValues[i]] = empty();
  }
  return feeds;
}

/** float32 -> float16 bits (round to nearest is not needed: both graphs get the same bits). */
function f16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | ((x >>> 13) & 0x3ff);
}

describe.each(['float32', 'float16'] as const)('lm_head on the last position only (%s tiny fixture)', (floatType) => {
  it('same last-position logits and presents as the exported graph', async () => {
    const dir = await ensureFixtureModel('tiny', 1, { floatType });
    // Without the speech adapter the LoRA branches are removed, which equals the exported zero branches.
    const model = await loadPhi4Model(dir, { sessionOptions: { intraOpNumThreads: 1 }, applySpeechAdapter: false });
    opened.push({ release: () => model.dispose() });
    expect(model.lastPositionLogits).toMatchObject({ applied: true });
    const original = await ort.InferenceSession.create(findModelFiles(dir).text, {
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    opened.push(original);
    const seqLength = 7;
    const a = await original.run(feedsFor(model, seqLength));
    const b = await model.text.run({ ...feedsFor(model, seqLength), ...model.textFeeds(true) });
    const n = model.io.names.text;
    const vocab = model.io.vocabSize;
    expect(a[n.logits].dims).toEqual([1, seqLength, vocab]);
    expect(b[n.logits].dims).toEqual([1, 1, vocab]);
    const lastRow = (a[n.logits].data as Float32Array | Uint16Array).slice((seqLength - 1) * vocab);
    expect(Array.from(b[n.logits].data as Float32Array | Uint16Array)).toEqual(Array.from(lastRow));
    // A KV-only run: no lm_head row at all, the same cache.
    const c = await model.text.run({ ...feedsFor(model, seqLength), ...model.textFeeds(false) });
    expect(c[n.logits].dims).toEqual([1, 0, vocab]);
    for (let i = 0; i < model.io.numLayers; i++) {
      for (const name of [n.presentKeys[i], n.presentValues[i]]) {
        expect(Array.from(b[name].data as Float32Array)).toEqual(Array.from(a[name].data as Float32Array));
        expect(Array.from(c[name].data as Float32Array)).toEqual(Array.from(a[name].data as Float32Array));
      }
    }
  });
});

describe('sliceLogitsToLastPosition refuses graphs it does not understand', () => {
  it('logits from a non-per-position op: not applied, reason given, graph unchanged', async () => {
    const dir = await ensureFixtureModel('tiny');
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(findModelFiles(dir).text));
    const graph = model.graph!;
    // Put a Softmax over the sequence axis between the lm_head and the output: slicing would change it.
    const producer = graph.node!.find((node) => node.output!.includes('logits'))!;
    producer.output = producer.output!.map((o) => (o === 'logits' ? 'logits_before' : o));
    graph.node!.push(
      onnxProto.onnx.NodeProto.create({
        name: 'seq_softmax',
        opType: 'Softmax',
        input: ['logits_before'],
        output: ['logits'],
        attribute: [
          onnxProto.onnx.AttributeProto.create({
            name: 'axis',
            type: onnxProto.onnx.AttributeProto.AttributeType.INT,
            i: 1,
          }),
        ],
      }),
    );
    const before = onnxProto.onnx.ModelProto.encode(model).finish();
    const result = sliceLogitsToLastPosition(model, 'logits');
    expect(result.applied).toBe(false);
    expect(result.applied ? '' : result.reason).toMatch(/seq_softmax.*not per-position/);
    expect(Buffer.from(onnxProto.onnx.ModelProto.encode(model).finish()).equals(Buffer.from(before))).toBe(true);
  });

  it('a missing output: not applied', async () => {
    const dir = await ensureFixtureModel('tiny');
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(findModelFiles(dir).text));
    expect(sliceLogitsToLastPosition(model, 'no_such_output')).toMatchObject({ applied: false });
  });
});
