// Token selection from one row of logits: greedy (Phi-4's default) or seeded temperature / top-k /
// top-p sampling. Everything is deterministic for a given seed, so a sampled answer can be reproduced.

export interface SamplingOptions {
  /** <= 0 means greedy. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = no limit. */
  topK?: number;
  /** Nucleus: smallest set whose probability reaches topP; 1 = no limit. */
  topP?: number;
  /** PRNG seed (32-bit). */
  seed?: number;
}

/** mulberry32: tiny, fast, good enough for sampling, and reproducible across platforms. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Index of the largest logit among ids 0..maxTokenId (ties: lowest id). NaN logits never win. */
export function argmax(logits: Float32Array, maxTokenId: number): number {
  const end = Math.min(maxTokenId + 1, logits.length);
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < end; i++) {
    const v = logits[i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** argmax restricted to [start, end) ranges in increasing order: the same choice (ties: lowest id) as
 * argmax over logits whose other ids were set to -Infinity. */
export function argmaxInRanges(logits: Float32Array, ranges: readonly (readonly [number, number])[]): number {
  let best = ranges.length > 0 ? ranges[0][0] : 0;
  let bestValue = -Infinity;
  for (const [start, end] of ranges) {
    const stop = Math.min(end, logits.length);
    for (let i = start; i < stop; i++) {
      const v = logits[i];
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
  }
  return best;
}

// Candidates whose scaled logit is this far below the best have probability < e^-30 relative to it:
// dropping them changes nothing measurable and saves sorting the whole 200k vocabulary.
const NEGLIGIBLE_LOGIT_GAP = 30;

/** Pick the next token from one row of logits; ids above maxTokenId (padding columns) are masked. */
export function selectToken(
  logits: Float32Array,
  maxTokenId: number,
  options: SamplingOptions | undefined,
  rng: SeededRandom,
): number {
  if (options === undefined || !(options.temperature > 0)) return argmax(logits, maxTokenId);
  const end = Math.min(maxTokenId + 1, logits.length);
  const temperature = options.temperature;
  const best = logits[argmax(logits, maxTokenId)];
  if (!Number.isFinite(best)) return argmax(logits, maxTokenId);

  let floor = best - NEGLIGIBLE_LOGIT_GAP * temperature;
  let ids: number[] = [];
  for (let i = 0; i < end; i++) if (logits[i] >= floor) ids.push(i);
  const k = options.topK !== undefined && options.topK > 0 ? options.topK : 0;
  if (k > 0 && k < ids.length) {
    // Find the k-th largest value with a native numeric sort (fast), then order only the survivors:
    // a comparator sort of all 200k ids costs ~100 ms per token when logits are flat.
    const values = Float32Array.from(ids, (id) => logits[id]).sort();
    floor = values[values.length - k];
    ids = ids.filter((id) => logits[id] >= floor);
  }
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  const topK = k > 0 ? Math.min(k, ids.length) : ids.length;
  const probs = new Float64Array(topK);
  let sum = 0;
  for (let j = 0; j < topK; j++) {
    probs[j] = Math.exp((logits[ids[j]] - best) / temperature);
    sum += probs[j];
  }
  let keep = topK;
  const topP = options.topP ?? 1;
  if (topP > 0 && topP < 1) {
    let cumulative = 0;
    for (let j = 0; j < topK; j++) {
      cumulative += probs[j] / sum;
      if (cumulative >= topP) {
        keep = j + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let j = 0; j < keep; j++) kept += probs[j];
  let r = rng.next() * kept;
  for (let j = 0; j < keep; j++) {
    r -= probs[j];
    if (r < 0) return ids[j];
  }
  return ids[keep - 1];
}
