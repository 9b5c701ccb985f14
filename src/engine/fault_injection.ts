// Test hook: makes one run of the embedding or text (decoder) graph throw, as an onnxruntime failure
// would, so that tests can check that a failed turn is rolled back wherever it fails (a caption, an
// answer, a tool step, a context rebuild, the first step after a rebuild). Disarmed it costs one branch
// per graph run. Armed only by tests and operators (EngineHost.injectFault); never by client input.

import type * as ort from 'onnxruntime-node';

export type FaultGraph = 'embedding' | 'text';

/**
 * When the armed fault fires: `next` on the graph's next run (after `skipRuns` runs), `rebuild` on its
 * first run while a context rebuild re-prefills, `afterRebuild` on its first run after a rebuild ended.
 */
export type FaultWhen = 'next' | 'rebuild' | 'afterRebuild';

export interface FaultSpec {
  graph: FaultGraph;
  when?: FaultWhen;
  /** Runs of the graph to let through first (`next` only; default 0). */
  skipRuns?: number;
  /** Only runs over at least this many positions count (2: prefill runs, not decode steps). */
  minPositions?: number;
  /** Only once a one-position run (a decode step) of any graph was seen since arming: a step after a generation. */
  afterDecode?: boolean;
}

interface Armed {
  graph: FaultGraph;
  when: FaultWhen;
  skipRuns: number;
  rebuildSeen: boolean;
  minPositions: number;
  afterDecode: boolean;
  decodeSeen: boolean;
}

export class FaultInjector {
  private armed: Armed[] = [];
  private rebuilding = 0;
  /** Faults fired since creation (tests read it to know the fault really happened). */
  fired = 0;

  arm(spec: FaultSpec): void {
    this.armed.push({
      graph: spec.graph,
      when: spec.when ?? 'next',
      skipRuns: Math.max(0, spec.skipRuns ?? 0),
      rebuildSeen: false,
      minPositions: Math.max(0, spec.minPositions ?? 0),
      afterDecode: spec.afterDecode ?? false,
      decodeSeen: false,
    });
  }

  get pending(): number {
    return this.armed.length;
  }

  /** A context rebuild starts (true) or ends (false). */
  rebuild(active: boolean): void {
    this.rebuilding += active ? 1 : -1;
    if (!active) for (const a of this.armed) if (a.when === 'afterRebuild') a.rebuildSeen = true;
  }

  /** Called before each run of `graph`: throws once per armed fault that is due. */
  beforeRun(graph: FaultGraph, positions: number): void {
    if (this.armed.length === 0) return;
    const due = this.armed.findIndex(
      (a) => a.graph === graph && positions >= a.minPositions && (!a.afterDecode || a.decodeSeen) && this.isDue(a),
    );
    if (positions === 1) for (const a of this.armed) a.decodeSeen = true;
    if (due < 0) return;
    this.armed.splice(due, 1);
    this.fired++;
    throw new Error(`injected ${graph} graph fault`);
  }

  private isDue(a: Armed): boolean {
    if (a.when === 'rebuild') return this.rebuilding > 0;
    if (a.when === 'afterRebuild') return a.rebuildSeen && this.rebuilding === 0;
    if (a.skipRuns > 0) {
      a.skipRuns--;
      return false;
    }
    return true;
  }
}

/** Routes every run of the two graphs through `faults` (the session objects are patched in place). */
export function installFaultHooks(
  model: { embedding: ort.InferenceSession; text: ort.InferenceSession },
  /** The feed whose dimension 1 is the run's positions, per graph (input_ids, inputs_embeds). */
  positionFeeds: Record<FaultGraph, string>,
  faults: FaultInjector,
): void {
  for (const graph of ['embedding', 'text'] as const) {
    const session = model[graph];
    const run = session.run.bind(session) as (...args: unknown[]) => Promise<ort.InferenceSession.OnnxValueMapType>;
    (session as { run: unknown }).run = (...args: unknown[]) => {
      const feed = (args[0] as Record<string, ort.Tensor | undefined>)[positionFeeds[graph]];
      faults.beforeRun(graph, Number(feed?.dims[1] ?? 0));
      return run(...args);
    };
  }
}
