import type onnxProto from 'onnx-proto';

// Finds the LoRA branches of a decoder graph as the export's builder writes them: x -> lora_A
// (MatMulNBits, N = rank) -> lora_B (MatMulNBits, K = rank) -> [Cast] -> Add onto the base projection.
// The branches are recognised by the names of their weight tensors (`.lora_A.` / `.lora_B.`), and
// everything about their size is read from the nodes' attributes and the initializers, never from the
// declared graph inputs (the export declares those with symbolic sizes).

export type ModelProto = ReturnType<typeof onnxProto.onnx.ModelProto.decode>;
export type GraphProto = NonNullable<ModelProto['graph']>;
export type NodeProto = NonNullable<GraphProto['node']>[number];
export type TensorProto = NonNullable<GraphProto['initializer']>[number];

export interface MatMulNBitsAttrs {
  K: number;
  N: number;
  bits: number;
  blockSize: number;
}

export interface LoraBranch {
  /** The projection, from the lora_A weight name, e.g. `model.layers.0.attn.q_proj`. */
  name: string;
  a: NodeProto;
  b: NodeProto;
  aAttrs: MatMulNBitsAttrs;
  bAttrs: MatMulNBitsAttrs;
  /** Nodes between lora_B and the Add (casts), in order. */
  between: NodeProto[];
  add: NodeProto;
  /** The Add's other input: the base projection's output. */
  base: string;
  /** Weight tensors: [A weight_Q4, A scales, B weight_Q4, B scales] (and zero points when present). */
  tensors: string[];
  /** Inputs beyond (x, weight, scales) on either node, e.g. zero points. */
  extraInputs: string[];
}

export interface FoundBranches {
  branches: LoraBranch[];
  /** LoRA-named tensors or nodes that do not form the expected pattern. */
  problems: string[];
}

export const LORA_A_MARK = '.lora_A.';
export const LORA_B_MARK = '.lora_B.';

export function toInt(value: unknown): number {
  return typeof value === 'number' ? value : Number(String(value));
}

export function matMulNBitsAttrs(node: NodeProto): MatMulNBitsAttrs {
  const get = (name: string, fallback: number) => {
    const a = (node.attribute ?? []).find((x) => x.name === name);
    return a?.i === undefined || a.i === null ? fallback : toInt(a.i);
  };
  return { K: get('K', -1), N: get('N', -1), bits: get('bits', 4), blockSize: get('block_size', -1) };
}

export function setIntAttr(node: NodeProto, name: string, value: number): void {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (a) a.i = value;
}

/** Whether a tensor name belongs to a LoRA branch. */
export function isLoraTensorName(name: string): boolean {
  return name.includes(LORA_A_MARK) || name.includes(LORA_B_MARK);
}

export function findLoraBranches(graph: GraphProto): FoundBranches {
  const nodes = graph.node ?? [];
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes)
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const branches: LoraBranch[] = [];
  const problems: string[] = [];
  const isNBits = (n: NodeProto | undefined, mark: string) =>
    n?.opType === 'MatMulNBits' && (n.input?.[1] ?? '').includes(mark);
  for (const a of nodes) {
    if (!isNBits(a, LORA_A_MARK)) continue;
    const weight = a.input![1];
    const name = weight.slice(0, weight.indexOf(LORA_A_MARK));
    const next = consumers.get(a.output?.[0] ?? '') ?? [];
    const b = next[0];
    if (next.length !== 1 || !isNBits(b, LORA_B_MARK)) {
      problems.push(`${a.name}: its output does not feed exactly one lora_B MatMulNBits`);
      continue;
    }
    const between: NodeProto[] = [];
    let value = b.output?.[0] ?? '';
    let add: NodeProto | undefined;
    for (let step = 0; step < 3 && add === undefined; step++) {
      const users = consumers.get(value) ?? [];
      if (users.length !== 1) break;
      if (users[0].opType === 'Add') add = users[0];
      else if (users[0].opType === 'Cast') {
        between.push(users[0]);
        value = users[0].output?.[0] ?? '';
      } else break;
    }
    if (add === undefined) {
      problems.push(`${b.name}: its output does not reach a single Add onto the base projection`);
      continue;
    }
    const base = (add.input ?? []).find((i) => i !== value);
    if (base === undefined || (add.input ?? []).length !== 2) {
      problems.push(`${add.name}: not a two-input Add of the base projection and the LoRA branch`);
      continue;
    }
    const aIn = a.input ?? [];
    const bIn = b.input ?? [];
    branches.push({
      name,
      a,
      b,
      aAttrs: matMulNBitsAttrs(a),
      bAttrs: matMulNBitsAttrs(b),
      between,
      add,
      base,
      tensors: [aIn[1], aIn[2], bIn[1], bIn[2]],
      extraInputs: [...aIn.slice(3), ...bIn.slice(3)].filter((i) => i !== ''),
    });
  }
  const covered = new Set(branches.flatMap((br) => br.tensors));
  for (const t of graph.initializer ?? []) {
    if (isLoraTensorName(t.name ?? '') && !covered.has(t.name ?? ''))
      problems.push(`${t.name}: a LoRA-named initializer outside any recognised branch`);
  }
  return { branches, problems };
}

/** Names of LoRA tensors still declared graph inputs. */
export function loraGraphInputs(graph: GraphProto): string[] {
  return (graph.input ?? []).map((i) => i.name ?? '').filter(isLoraTensorName);
}
