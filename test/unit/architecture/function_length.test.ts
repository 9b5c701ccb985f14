// No function in src/ over 100 lines (read with the TypeScript compiler), except the named entries of
// LONG_FUNCTIONS_BEING_SPLIT (empty now; a function being split on a branch may be listed with its owner).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { functionLengths, longFunctions } from './function_length.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAX_FUNCTION_LINES = 100;

/** `file:name` -> who splits it. Only shrinks. */
const LONG_FUNCTIONS_BEING_SPLIT: Readonly<Record<string, string>> = {};

describe('function length', () => {
  const long = longFunctions(REPO_ROOT, ['src'], MAX_FUNCTION_LINES).map((f) => `${f.file}:${f.name}`);

  it(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(long.filter((key) => !(key in LONG_FUNCTIONS_BEING_SPLIT))).toEqual([]);
  });

  it('allowlists only functions that are still long', () => {
    expect(Object.keys(LONG_FUNCTIONS_BEING_SPLIT).filter((key) => !long.includes(key))).toEqual([]);
  });

  it('measures declarations, methods, arrows and function expressions by their lines', () => {
    const text = [
      'export function a() {',
      '  return 1;',
      '}',
      'class K {',
      '  m() {',
      '    const f = () => {',
      '      return 2;',
      '    };',
      '  }',
      '}',
      'const g = function () {};',
    ].join('\n');
    const found = functionLengths('x.ts', text).map((f) => `${f.name}:${f.lines}`);
    expect(found).toEqual(['a:3', 'm:5', 'f:3', 'g:1']);
  });
});
