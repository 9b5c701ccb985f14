// Load-time rewrite of the text graph: the lm_head (hidden x 200064) runs on the last position only.
// The export computes logits for every input position, but generation only ever reads the last one, and
// onnxruntime computes every node of the graph whatever outputs are fetched, so a prefill chunk of 64
// tokens paid 64 lm_head rows for nothing (on the real model about a sixth of a prefill; on the tiny
// fixture nearly all of it). A Slice of the hidden state to its last position is inserted in front of the
// lm_head; `logits` becomes [batch, 1, vocab]. The Slice's start is a new int64 [1] input,
// `earshot_logits_start`: -1 keeps the last position, LOGITS_NONE keeps none, so a prefill run that needs
// only the KV cache computes no lm_head row at all. Nothing else in the graph changes.

import onnxProto from 'onnx-proto';

type ModelProto = ReturnType<typeof onnxProto.onnx.ModelProto.decode>;
type NodeProto = NonNullable<NonNullable<ModelProto['graph']>['node']>[number];

/** Ops between the lm_head and the `logits` output that act per position (bias, casts). */
const PER_POSITION_OPS = new Set(['Cast', 'Identity', 'Add']);
/** Ops that can be the lm_head projection. */
const PROJECTION_OPS = new Set(['MatMul', 'MatMulNBits', 'Gemm']);
const MAX_WALK_NODES = 8;
const SLICE_PREFIX = '/earshot/lm_head_last_position';
/** The added input: where the positions given to the lm_head start. */
export const LOGITS_START_INPUT = 'earshot_logits_start';
/** Start values: the last position, or past the end (no position: logits [batch, 0, vocab]). */
export const LOGITS_LAST = -1n;
export const LOGITS_NONE = 9_223_372_036_854_775_807n;

export type LastPositionResult = { applied: true; lmHeadNode: string } | { applied: false; reason: string };

/**
 * Rewrites `model` in place so `logitsName` holds the last position only. Returns why not when the
 * path from the output back to a projection is not the simple one expected (the graph is left as is).
 */
export function sliceLogitsToLastPosition(model: ModelProto, logitsName: string): LastPositionResult {
  const graph = model.graph;
  if (!graph) return { applied: false, reason: 'the model has no graph' };
  const nodes = graph.node ?? [];
  const producer = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producer.set(output, node);

  let value = logitsName;
  let lmHead: NodeProto | undefined;
  for (let step = 0; step < MAX_WALK_NODES && lmHead === undefined; step++) {
    const node = producer.get(value);
    if (node === undefined) return { applied: false, reason: `nothing in the graph produces ${value}` };
    const op = node.opType ?? '';
    if (PROJECTION_OPS.has(op)) {
      lmHead = node;
    } else if (PER_POSITION_OPS.has(op)) {
      // Follow the input that is computed (not an initializer or constant bias).
      const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
      const computed = (node.input ?? []).filter(
        (name) => name !== '' && !initializers.has(name) && producer.get(name)?.opType !== 'Constant',
      );
      if (computed.length !== 1)
        return {
          applied: false,
          reason: `${node.name ?? op} before ${logitsName} has ${computed.length} computed inputs`,
        };
      value = computed[0];
    } else {
      return {
        applied: false,
        reason: `${node.name ?? op} (${op}) between the lm_head and ${logitsName} is not per-position`,
      };
    }
  }
  if (lmHead === undefined)
    return { applied: false, reason: `no projection within ${MAX_WALK_NODES} nodes of ${logitsName}` };
  // The lm_head's output must feed only the path to logits (otherwise slicing would change other values).
  const lmOut = lmHead.output?.[0] ?? '';
  const consumers = nodes.filter((n) => (n.input ?? []).includes(lmOut));
  const isGraphOutput = (graph.output ?? []).some((o) => o.name === lmOut);
  if (consumers.length + (isGraphOutput ? 1 : 0) !== 1)
    return { applied: false, reason: `${lmOut} has ${consumers.length} consumers` };

  const hidden = lmHead.input?.[0] ?? '';
  const int64 = (name: string, value: bigint) =>
    onnxProto.onnx.TensorProto.create({
      name,
      dataType: onnxProto.onnx.TensorProto.DataType.INT64,
      dims: [1],
      rawData: new Uint8Array(new BigInt64Array([value]).buffer),
    });
  graph.initializer = [
    ...(graph.initializer ?? []),
    int64(`${SLICE_PREFIX}/ends`, LOGITS_NONE),
    int64(`${SLICE_PREFIX}/axes`, 1n),
  ];
  graph.input = [
    ...(graph.input ?? []),
    onnxProto.onnx.ValueInfoProto.create({
      name: LOGITS_START_INPUT,
      type: { tensorType: { elemType: onnxProto.onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimValue: 1 }] } } },
    }),
  ];
  const sliced = `${SLICE_PREFIX}/output_0`;
  const slice = onnxProto.onnx.NodeProto.create({
    name: `${SLICE_PREFIX}/Slice`,
    opType: 'Slice',
    input: [hidden, LOGITS_START_INPUT, `${SLICE_PREFIX}/ends`, `${SLICE_PREFIX}/axes`],
    output: [sliced],
  });
  lmHead.input = [sliced, ...(lmHead.input ?? []).slice(1)];
  // Topological order: the Slice goes right before the lm_head.
  graph.node = nodes.flatMap((n) => (n === lmHead ? [slice, n] : [n]));
  // The declared output shape: one position.
  const output = (graph.output ?? []).find((o) => o.name === logitsName);
  const dims = output?.type?.tensorType?.shape?.dim;
  if (dims && dims.length === 3)
    dims[1] = onnxProto.onnx.TensorShapeProto.Dimension.create({ dimParam: 'logits_positions' });
  return { applied: true, lmHeadNode: lmHead.name ?? lmHead.opType ?? 'lm_head' };
}
