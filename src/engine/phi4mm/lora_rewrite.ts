import onnxProto from 'onnx-proto';
import type { AdapterFile } from './adapter_types.ts';
import {
  findLoraBranches,
  isLoraTensorName,
  loraGraphInputs,
  setIntAttr,
  type LoraBranch,
  type ModelProto,
} from './lora_branches.ts';
import { graphLoraRank, matchAdapterToBranches, type BranchPlan } from './lora_match.ts';

// Load-time rewrite of the decoder's LoRA branches (the export's layout, docs/model.md). The export
// declares every LoRA tensor a graph input with a zero default; onnxruntime then cannot treat them as
// constants or pre-pack them, which costs far more per token than the branches' arithmetic. So:
//   - an adapter that fits is applied: each lora_A node's N and lora_B node's K become the adapter's
//     rank, the initializers take the adapter's values, and the now stale value_info is dropped;
//   - with no adapter (absent, refused or turned off) the branches are removed: base output straight on;
//   - either way no LoRA tensor stays a graph input.
// An adapter that does not fit is refused with every mismatch listed; the rewrite never throws for it.

export type SpeechAdapterStatus = 'applied' | 'merged' | 'absent' | 'refused';

export interface LoraRewriteReport {
  speechAdapter: SpeechAdapterStatus;
  /** Rank of the branches as exported (lora_A's N), undefined when the graph has none. */
  graphLoraRank?: number;
  /** Rank of the applied or refused adapter (from its lora_A tensors). */
  speechAdapterRank?: number;
  branches: number;
  appliedBranches: number;
  removedBranches: number;
  /** Applied branches whose lora_A (byte-identical to another's on the same input) was shared. */
  sharedLoraA: number;
  /** LoRA tensors still graph inputs after the rewrite (0 unless the graph's pattern was not recognised). */
  loraGraphInputs: number;
  /** Sentences: refusal reasons, unrecognised patterns, why the adapter was not used. */
  problems: string[];
}

export interface LoraRewriteOptions {
  /** The parsed adapter, or undefined when absent / not to be applied. */
  adapter?: AdapterFile;
  /** Why no adapter is given (for the report), e.g. "turned off by engine.apply_speech_adapter". */
  noAdapterReason?: string;
}

function dropValueInfo(model: ModelProto, names: Set<string>): void {
  const graph = model.graph!;
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !names.has(v.name ?? ''));
}

function removeBranches(model: ModelProto, branches: LoraBranch[]): void {
  const graph = model.graph!;
  const removed = new Set(branches.flatMap((b) => [b.a, b.b, ...b.between, b.add]));
  const rename = new Map(branches.map((b) => [b.add.output?.[0] ?? '', b.base]));
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const keepAsIdentity: typeof graph.node = [];
  for (const br of branches) {
    // An Add that is itself a graph output keeps its name through an Identity of the base.
    const out = br.add.output?.[0] ?? '';
    if (outputs.has(out)) {
      rename.delete(out);
      keepAsIdentity.push(
        onnxProto.onnx.NodeProto.create({
          name: `${br.add.name}/Identity`,
          opType: 'Identity',
          input: [br.base],
          output: [out],
        }),
      );
    }
  }
  graph.node = [...(graph.node ?? []).filter((n) => !removed.has(n)), ...keepAsIdentity];
  for (const node of graph.node) node.input = (node.input ?? []).map((i) => rename.get(i) ?? i);
  const tensors = new Set(branches.flatMap((b) => b.tensors));
  graph.initializer = (graph.initializer ?? []).filter((t) => !tensors.has(t.name ?? ''));
  dropValueInfo(model, new Set([...removed].flatMap((n) => n.output ?? [])));
}

function applyBranches(model: ModelProto, plans: ReturnType<typeof matchAdapterToBranches> & { ok: true }): void {
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const stale = new Set<string>();
  for (const { branch, rank, tensors } of plans.plans) {
    setIntAttr(branch.a, 'N', rank);
    setIntAttr(branch.b, 'K', rank);
    for (const node of [branch.a, branch.b, ...branch.between]) for (const o of node.output ?? []) stale.add(o);
    for (const p of tensors) {
      const t = initializers.get(p.name)!;
      t.dims = p.dims;
      t.dataLocation = onnxProto.onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
      t.rawData = p.rawData;
    }
  }
  dropValueInfo(model, stale);
}

/**
 * q/k/v (and gate/up) read the same input through lora_A tensors the export copied per projection: when
 * the adapter's values are byte-identical too, one lora_A node serves all the branches (the others'
 * lora_B read its output), which saves those copies' multiply-adds on every token. Returns the count.
 */
function shareIdenticalLoraA(model: ModelProto, plans: BranchPlan[]): number {
  const graph = model.graph!;
  const kept = new Map<string, BranchPlan[]>();
  const removedNodes = new Set<unknown>();
  const removedTensors = new Set<string>();
  for (const plan of plans) {
    const key = `${plan.branch.a.input?.[0]}|${plan.rank}|${plan.branch.aAttrs.K}`;
    const same = (kept.get(key) ?? []).find((k) =>
      [0, 1].every((i) => Buffer.from(k.tensors[i].rawData).equals(plan.tensors[i].rawData)),
    );
    if (same === undefined) {
      kept.set(key, [...(kept.get(key) ?? []), plan]);
      continue;
    }
    plan.branch.b.input = [same.branch.a.output![0], ...(plan.branch.b.input ?? []).slice(1)];
    removedNodes.add(plan.branch.a);
    removedTensors.add(plan.branch.tensors[0]).add(plan.branch.tensors[1]);
  }
  graph.node = (graph.node ?? []).filter((n) => !removedNodes.has(n));
  graph.initializer = (graph.initializer ?? []).filter((t) => !removedTensors.has(t.name ?? ''));
  return removedNodes.size;
}

/** Rewrites `model` (the decoder graph) in place and reports what it did. */
export function rewriteLoraBranches(model: ModelProto, options: LoraRewriteOptions): LoraRewriteReport {
  const graph = model.graph!;
  const found = findLoraBranches(graph);
  const problems = [...found.problems];
  const graphRank = graphLoraRank(found.branches);
  let shared = 0;
  const report = (
    status: SpeechAdapterStatus,
    applied: number,
    removed: number,
    adapterRank?: number,
  ): LoraRewriteReport => {
    // Every LoRA tensor stops being a graph input: those with an initializer become constants (those of
    // unrecognised patterns keep their zero value), those of removed branches are no longer read.
    const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
    const read = new Set((graph.node ?? []).flatMap((n) => n.input ?? []));
    graph.input = (graph.input ?? []).filter((i) => {
      const name = i.name ?? '';
      return !isLoraTensorName(name) || (!initializers.has(name) && read.has(name));
    });
    return {
      speechAdapter: status,
      graphLoraRank: graphRank,
      speechAdapterRank: adapterRank,
      branches: found.branches.length,
      appliedBranches: applied,
      removedBranches: removed,
      sharedLoraA: shared,
      loraGraphInputs: loraGraphInputs(graph).length,
      problems,
    };
  };
  if (options.adapter === undefined) {
    removeBranches(model, found.branches);
    if (options.noAdapterReason) problems.push(options.noAdapterReason);
    return report(found.branches.length === 0 ? 'merged' : 'absent', 0, found.branches.length);
  }
  const match = matchAdapterToBranches(
    options.adapter,
    found.branches,
    new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t])),
  );
  if (!match.ok) {
    removeBranches(model, found.branches);
    problems.push(...match.mismatches);
    const aRanks = options.adapter.parameters
      .filter((p) => p.name.endsWith('lora_A.MatMul.weight_Q4'))
      .map((p) => p.dims[0]);
    return report('refused', 0, found.branches.length, aRanks.length > 0 ? Math.max(...aRanks) : undefined);
  }
  const uncovered = found.branches.filter((b) => match.uncovered.includes(b.name));
  if (uncovered.length > 0)
    problems.push(
      `the adapter has no tensors for ${uncovered.length} branch(es) (removed): ${uncovered.map((b) => b.name).join(', ')}`,
    );
  applyBranches(model, match);
  shared = shareIdenticalLoraA(model, match.plans);
  removeBranches(model, uncovered);
  return report('applied', match.plans.length, uncovered.length, match.rank);
}
