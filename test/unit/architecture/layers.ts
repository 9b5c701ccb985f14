// The design's dependency direction as data: which layer a file belongs to, and which edges between
// layers are forbidden. The import-graph test checks the real tree against these rules.
import type { ImportGraph } from './import_graph.ts';

/**
 * A file's layer: its top-level folder under src/ (engine/phi4mm counts apart from engine, so that the
 * engine's interfaces and its ONNX implementation cannot import each other), a root file by its name
 * (errors, main, index), and every file of the browser client as `client`.
 */
export function layerOf(file: string): string {
  if (file.startsWith('client/')) return 'client';
  const parts = file.split('/');
  if (parts[0] !== 'src') return parts[0] ?? file;
  if (parts.length === 2) return parts[1]!.replace(/\.[a-z]+$/, '');
  if (parts[1] === 'engine' && parts[2] === 'phi4mm') return 'engine/phi4mm';
  return parts[1]!;
}

/** A layer's rule: either the only layers it may import (`only`), or the layers it must never import (`never`). */
export type LayerRule = { only: readonly string[]; why: string } | { never: readonly string[]; why: string };

const LEAF = ['errors'];
const ENGINE_NEVER = ['session', 'transport', 'protocol', 'agent', 'pipeline', 'openai_api', 'cli', 'main'];

export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  protocol: { only: LEAF, why: 'the wire schema is shared with the browser client and depends on nothing of ours' },
  audio: { only: LEAF, why: 'pure DSP, shared with the browser client' },
  vad: {
    only: [...LEAF, 'audio'],
    why: 'the Silero wrapper and the pure turn state machine (audio: the windows it reads)',
  },
  config: { only: LEAF, why: 'config is the root schema: every layer reads it, it imports none' },
  observability: { only: LEAF, why: 'metrics and logs are fed plain numbers and records by their callers' },
  engine: { never: ENGINE_NEVER, why: 'the engine knows nothing of sessions, transport, the protocol or the agent' },
  'engine/phi4mm': {
    never: [...ENGINE_NEVER, 'engine'],
    why: 'the ONNX implementation depends on no engine plumbing (the engine composes it)',
  },
  pipeline: {
    never: ['engine', 'engine/phi4mm', 'session', 'transport', 'agent'],
    why: 'the RxJS pipeline runs on audio and VAD, never the engine',
  },
  agent: {
    never: ['session', 'transport', 'main', 'cli'],
    why: 'the agent talks to engine interfaces and protocol types',
  },
  store: {
    never: ['pipeline', 'protocol', 'session', 'transport', 'agent', 'engine', 'engine/phi4mm'],
    why: 'the store has its own record types; the session maps events to them',
  },
  transport: { never: ['engine', 'engine/phi4mm', 'client', 'main', 'cli'], why: 'transport does I/O only' },
  tts: {
    only: [...LEAF, 'audio', 'config', 'observability', 'engine', 'engine/phi4mm'],
    why: "voice engines: audio, config types, errors, metrics, and the engine's ONNX tooling for Kokoro (hub download, graph builder, worker messages); never sessions, transport, the protocol or the agent",
  },
  client: {
    only: [...LEAF, 'client', 'protocol', 'audio'],
    why: 'the browser client: protocol types, the error catalogue and pure audio code',
  },
  errors: { only: [], why: 'the error catalogue is the one thing every layer may import' },
};

/**
 * Edges the tree still has against the rules, each with its reason and the branch that removes it.
 * Keys are `from -> to` file paths. Shrink this list; never grow it without a reason.
 */
export const ALLOWED_VIOLATIONS: Readonly<Record<string, string>> = {};

export interface Violation {
  from: string;
  to: string;
  fromLayer: string;
  toLayer: string;
  why: string;
}

export function isForbidden(fromLayer: string, toLayer: string, rules: Readonly<Record<string, LayerRule>>): boolean {
  if (fromLayer === toLayer) return false;
  const rule = rules[fromLayer];
  if (!rule) return false;
  return 'only' in rule ? !rule.only.includes(toLayer) : rule.never.includes(toLayer);
}

/** Every file edge that crosses layers against the rules. */
export function layerViolations(
  graph: ImportGraph,
  rules: Readonly<Record<string, LayerRule>> = LAYER_RULES,
): Violation[] {
  const found: Violation[] = [];
  for (const [from, targets] of graph) {
    const fromLayer = layerOf(from);
    for (const to of targets) {
      const toLayer = layerOf(to);
      if (isForbidden(fromLayer, toLayer, rules))
        found.push({ from, to, fromLayer, toLayer, why: rules[fromLayer]!.why });
    }
  }
  return found;
}

/** The layer dependency matrix: for each layer, the layers it imports and how many file edges each. */
export function layerMatrix(graph: ImportGraph): Map<string, Map<string, number>> {
  const matrix = new Map<string, Map<string, number>>();
  for (const [from, targets] of graph) {
    const row = matrix.get(layerOf(from)) ?? new Map<string, number>();
    matrix.set(layerOf(from), row);
    for (const to of targets) {
      const toLayer = layerOf(to);
      if (toLayer !== layerOf(from)) row.set(toLayer, (row.get(toLayer) ?? 0) + 1);
    }
  }
  return matrix;
}

export function formatMatrix(matrix: Map<string, Map<string, number>>): string {
  return [...matrix.keys()]
    .sort()
    .map((layer) => {
      const row = matrix.get(layer)!;
      const cells = [...row.keys()].sort().map((to) => `${to}(${row.get(to)})`);
      return `${layer.padEnd(14)} -> ${cells.join(' ') || '-'}`;
    })
    .join('\n');
}
