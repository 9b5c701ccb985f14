// A small import-graph scanner for the layering check: every relative import of every source file
// (static, type-only, re-export and dynamic import()), resolved to repository paths. Uses the TypeScript
// compiler's own pre-processor so that comments and strings never count as imports.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Repository-relative file path (forward slashes) -> the files it imports. */
export type ImportGraph = Map<string, string[]>;

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.mjs', '.js'];

export function listSourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (SOURCE_EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files.map((f) => toPosix(relative(root, f)));
}

/** The relative import specifiers of one file's text. */
export function importSpecifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName).filter((name) => name.startsWith('.'));
}

/** Builds the graph of `folders` under `root`; imports that leave the scanned files are kept as written paths. */
export function scanImports(root: string, folders: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of listSourceFiles(root, folders)) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets = importSpecifiers(text).map((spec) => resolveSpecifier(file, spec));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

function resolveSpecifier(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec));
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/** Every strongly connected component with more than one node (or a self-loop): the import cycles. */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string) => {
    indices.set(node, index);
    lowlinks.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indices.has(next)) {
        if (!edges.has(next)) continue;
        connect(next);
        lowlinks.set(node, Math.min(lowlinks.get(node)!, lowlinks.get(next)!));
      } else if (onStack.has(next)) lowlinks.set(node, Math.min(lowlinks.get(node)!, indices.get(next)!));
    }
    if (lowlinks.get(node) !== indices.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfLoop = component.length === 1 && (edges.get(node) ?? []).includes(node);
    if (component.length > 1 || selfLoop) cycles.push(component.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!indices.has(node)) connect(node);
  return cycles;
}

/** The folder graph: one node per directory, an edge where any file imports a file of another directory. */
export function folderGraph(graph: ImportGraph, folderOf: (file: string) => string): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    const set = folders.get(from) ?? new Set<string>();
    folders.set(from, set);
    for (const target of targets) {
      const to = folderOf(target);
      if (to !== from) set.add(to);
    }
  }
  return new Map([...folders].map(([k, v]) => [k, [...v].sort()]));
}

export function directoryOf(file: string): string {
  return dirname(file).split(sep).join('/');
}
