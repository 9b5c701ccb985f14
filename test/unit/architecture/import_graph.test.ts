// The design's layering, enforced on the real tree: no import cycle between files or between layers, and
// no edge the dependency rules forbid (except the named, explained entries of ALLOWED_VIOLATIONS).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findCycles, folderGraph, importSpecifiers, scanImports, type ImportGraph } from './import_graph.ts';
import { ALLOWED_VIOLATIONS, layerOf, layerViolations } from './layers.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SCANNED = ['src', 'client'];

function unexplained(graph: ImportGraph): string[] {
  return layerViolations(graph)
    .map((v) => `${v.from} -> ${v.to}`)
    .filter((edge) => !(edge in ALLOWED_VIOLATIONS));
}

describe('the import graph of src/ and client/', () => {
  const graph = scanImports(REPO_ROOT, SCANNED);

  it('scans the whole tree', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('src/main.ts')).toContain('src/errors.ts');
  });

  it('has no import cycle between files', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('has no cycle between layers', () => {
    expect(findCycles(folderGraph(graph, layerOf))).toEqual([]);
  });

  it('has no edge the layering forbids', () => {
    expect(unexplained(graph)).toEqual([]);
  });

  it('allowlists only edges that still exist (the list only shrinks)', () => {
    const present = new Set(layerViolations(graph).map((v) => `${v.from} -> ${v.to}`));
    expect(Object.keys(ALLOWED_VIOLATIONS).filter((edge) => !present.has(edge))).toEqual([]);
  });
});

describe('the check itself', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function plantTree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'earshot-layers-'));
    dirs.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  it('reads static, type-only, re-export and dynamic imports, and not comments or strings', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export * from './c.ts';",
      "const d = await import('./d.ts');",
      "// import { e } from './e.ts';",
      'const s = "import { f } from \'./f.ts\'";',
      "import { z } from 'zod';",
    ].join('\n');
    expect(importSpecifiers(text).sort()).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts']);
  });

  it('finds a planted cycle in an in-memory graph, and a self-import', () => {
    const graph = new Map([
      ['src/a/x.ts', ['src/b/y.ts']],
      ['src/b/y.ts', ['src/c/z.ts']],
      ['src/c/z.ts', ['src/a/x.ts']],
      ['src/d/w.ts', ['src/d/w.ts']],
      ['src/e/v.ts', ['src/a/x.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['src/a/x.ts', 'src/b/y.ts', 'src/c/z.ts'], ['src/d/w.ts']]);
  });

  it('finds a planted cycle between layers in a folder on disk', () => {
    const root = plantTree({
      'src/agent/uses_session.ts': "import type { S } from '../session/state.ts';\nexport type A = S;\n",
      'src/session/state.ts': "import type { R } from '../agent/runtime.ts';\nexport type S = R;\n",
      'src/agent/runtime.ts': 'export type R = number;\n',
    });
    const planted = scanImports(root, ['src']);
    expect(findCycles(planted)).toEqual([]);
    expect(findCycles(folderGraph(planted, layerOf))).toEqual([['agent', 'session']]);
  });

  it('flags a planted forbidden edge (engine -> session) and a client import of the server', () => {
    const root = plantTree({
      'src/engine/bad.ts': "import { x } from '../session/thing.ts';\nexport const y = x;\n",
      'src/session/thing.ts': "import { E } from '../errors.ts';\nexport const x = E;\n",
      'src/errors.ts': 'export const E = 1;\n',
      'client/web/main.ts':
        "import { x } from '../../src/session/thing.ts';\nimport { E } from '../../src/errors.ts';\n",
    });
    expect(unexplained(scanImports(root, ['src', 'client'])).sort()).toEqual([
      'client/web/main.ts -> src/session/thing.ts',
      'src/engine/bad.ts -> src/session/thing.ts',
    ]);
  });
});
