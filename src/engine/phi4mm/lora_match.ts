import type { AdapterFile, AdapterParameter } from './adapter_types.ts';
import { elemTypeName } from './model_dir.ts';
import { toInt, type LoraBranch, type TensorProto } from './lora_branches.ts';

// Decides whether a LoRA adapter can be applied to the text graph's LoRA branches by rewriting them:
// every adapter tensor must name a branch tensor, have its data type, and have the shape the branch's
// MatMulNBits nodes need at the adapter's rank (lora_A: N = rank, K fixed by the projection; lora_B:
// K = rank, N fixed). The rank may differ from the graph's: the nodes are rewritten to it. Declared
// graph-input shapes are never consulted (the export declares them with symbolic sizes).

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 10: 2, 11: 8, 16: 2 };

export interface BranchPlan {
  branch: LoraBranch;
  rank: number;
  /** Adapter tensors in the order of branch.tensors. */
  tensors: AdapterParameter[];
}

export type LoraMatch =
  | {
      ok: true;
      rank: number;
      plans: BranchPlan[] /** Branches the adapter does not cover (removed). */;
      uncovered: string[];
    }
  | { ok: false; mismatches: string[] };

function formatDims(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Shape checks for one branch's four adapter tensors; returns the rank when they agree. */
function planBranch(branch: LoraBranch, params: AdapterParameter[], problems: string[]): number | undefined {
  const [aQ4, aScales, bQ4, bScales] = params;
  const { aAttrs: a, bAttrs: b } = branch;
  if (a.bits !== 4 || b.bits !== 4)
    problems.push(
      `${branch.name}: the graph's LoRA nodes use ${a.bits}/${b.bits}-bit weights; only 4-bit is supported`,
    );
  if (branch.extraInputs.length > 0)
    problems.push(
      `${branch.name}: the graph's LoRA nodes have zero points (${branch.extraInputs.join(', ')}), which an adapter cannot replace`,
    );
  const blob = (a.blockSize * a.bits) / 8;
  const rank = aQ4.dims[0];
  if (!(rank > 0)) {
    problems.push(`${aQ4.name}: shape ${formatDims(aQ4.dims)} has no rank in its first dimension`);
    return undefined;
  }
  const aBlocks = Math.ceil(a.K / a.blockSize);
  const bBlocks = Math.ceil(rank / b.blockSize);
  const expect = (p: AdapterParameter, dims: number[], why: string) => {
    if (!sameDims(p.dims, dims))
      problems.push(`${p.name}: shape ${formatDims(p.dims)} but ${why} needs ${formatDims(dims)}`);
  };
  expect(aQ4, [rank, aBlocks, blob], `lora_A (K ${a.K}, block ${a.blockSize}) at rank ${rank}`);
  expect(aScales, [rank * aBlocks], `lora_A at rank ${rank}`);
  expect(bQ4, [b.N, bBlocks, (b.blockSize * b.bits) / 8], `lora_B (N ${b.N}, block ${b.blockSize}) at rank ${rank}`);
  expect(bScales, [b.N * bBlocks], `lora_B at rank ${rank}`);
  return rank;
}

export function matchAdapterToBranches(
  adapter: AdapterFile,
  branches: LoraBranch[],
  initializers: Map<string, TensorProto>,
): LoraMatch {
  const mismatches: string[] = [];
  const byName = new Map<string, AdapterParameter>();
  const owner = new Map<string, LoraBranch>();
  for (const br of branches) for (const t of br.tensors) owner.set(t, br);
  if (adapter.parameters.length === 0) mismatches.push('the adapter holds no tensors');
  if (branches.length === 0) mismatches.push('the text graph has no LoRA branches to apply an adapter to');
  for (const p of adapter.parameters) {
    const problems: string[] = [];
    if (byName.has(p.name)) problems.push('appears twice in the adapter');
    byName.set(p.name, p);
    const init = initializers.get(p.name);
    if (!owner.has(p.name) || init === undefined)
      problems.push('no LoRA branch of the text graph has a tensor of this name');
    else if (init.dataType !== p.dataType)
      problems.push(
        `data type ${elemTypeName(p.dataType)} but the graph's tensor is ${elemTypeName(init.dataType ?? 0)}`,
      );
    const bytes = ELEM_BYTES[p.dataType];
    const elements = p.dims.reduce((n, d) => n * d, 1);
    if (bytes === undefined) problems.push(`unsupported data type ${elemTypeName(p.dataType)}`);
    else if (elements * bytes !== p.rawData.length)
      problems.push(`holds ${p.rawData.length} bytes but shape ${formatDims(p.dims)} needs ${elements * bytes}`);
    if (problems.length > 0) mismatches.push(`${p.name}: ${problems.join('; ')}`);
  }
  const plans: BranchPlan[] = [];
  const uncovered: string[] = [];
  const ranks = new Set<number>();
  for (const br of branches) {
    const present = br.tensors.map((t) => byName.get(t));
    if (present.every((p) => p === undefined)) {
      uncovered.push(br.name);
      continue;
    }
    const missing = br.tensors.filter((_, i) => present[i] === undefined);
    if (missing.length > 0) {
      mismatches.push(`${br.name}: the adapter lacks ${missing.join(', ')}`);
      continue;
    }
    const rank = planBranch(br, present as AdapterParameter[], mismatches);
    if (rank !== undefined) {
      ranks.add(rank);
      plans.push({ branch: br, rank, tensors: present as AdapterParameter[] });
    }
  }
  if (mismatches.length > 0) return { ok: false, mismatches };
  return { ok: true, rank: Math.max(...ranks), plans, uncovered };
}

/** The rank the graph's branches were built with (lora_A's N), or undefined without branches. */
export function graphLoraRank(branches: LoraBranch[]): number | undefined {
  return branches.length === 0 ? undefined : Math.max(...branches.map((b) => b.aAttrs.N));
}

export { toInt };
