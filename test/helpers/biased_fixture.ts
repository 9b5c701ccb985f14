// A tiny fixture model whose output layer favours given token ids: the generated tiny model with a bias
// added to its logits (an Add after the lm_head, a per-position op the load-time rewrite accepts). Used
// to check that ids only the chat template may write (the image placeholder, <|user|>) are never
// generated even when the model prefers them. The weight files are hard links to the cached model's.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import { FIXTURE_MARKER_FILE } from '../../src/engine/phi4mm/fixture/cache.ts';
import { ensureFixtureModel } from '../../src/engine/phi4mm/fixture/index.ts';

const TEXT_GRAPH = 'phi-4-mm-text.onnx';
const LOGITS = 'logits';
const VOCAB = 200064;

/** The tiny model with `boost` added to the logits of `tokenIds` (cached next to the tiny model). */
export async function favouringFixtureModel(tokenIds: readonly number[], boost = 1000): Promise<string> {
  const base = await ensureFixtureModel('tiny');
  const marker = readFileSync(join(base, FIXTURE_MARKER_FILE), 'utf8');
  const dir = join(dirname(base), `tiny-1-favour-${tokenIds.join('-')}-${boost}`);
  const expected = JSON.stringify({ base: marker, tokenIds, boost });
  if (existsSync(join(dir, 'favour.json')) && readFileSync(join(dir, 'favour.json'), 'utf8') === expected) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const name of readdirSync(base)) {
      if (name === TEXT_GRAPH || name === FIXTURE_MARKER_FILE) continue;
      linkSync(join(base, name), join(tmp, name));
    }
    writeFileSync(join(tmp, TEXT_GRAPH), biasedTextGraph(readFileSync(join(base, TEXT_GRAPH)), tokenIds, boost));
    writeFileSync(join(tmp, 'favour.json'), expected);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

function biasedTextGraph(bytes: Uint8Array, tokenIds: readonly number[], boost: number): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const producer = (graph.node ?? []).find((n) => (n.output ?? []).includes(LOGITS));
  if (!producer) throw new Error('the fixture text graph has no logits producer');
  const unbiased = '/test/favour/unbiased_logits';
  producer.output = (producer.output ?? []).map((o) => (o === LOGITS ? unbiased : o));
  const bias = new Float32Array(VOCAB);
  for (const id of tokenIds) bias[id] = boost;
  graph.initializer = [
    ...(graph.initializer ?? []),
    onnxProto.onnx.TensorProto.create({ name: '/test/favour/bias', dataType: onnxProto.onnx.TensorProto.DataType.FLOAT, dims: [VOCAB], rawData: new Uint8Array(bias.buffer) }),
  ];
  graph.node = [
    ...(graph.node ?? []),
    onnxProto.onnx.NodeProto.create({ name: '/test/favour/Add', opType: 'Add', input: [unbiased, '/test/favour/bias'], output: [LOGITS] }),
  ];
  return onnxProto.onnx.ModelProto.encode(model).finish();
}
