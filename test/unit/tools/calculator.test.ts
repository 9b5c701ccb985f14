import { describe, expect, it } from 'vitest';
import { calculator, evaluate } from '../../../tools/calculator.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('calculator', () => {
  it('evaluates with precedence, powers, unary minus and sqrt', async () => {
    expect(evaluate('2 + 3 * 4')).toBe(14);
    expect(evaluate('(2 + 3) * 4')).toBe(20);
    expect(evaluate('2 ^ 3 ^ 2')).toBe(512);
    expect(evaluate('-3 + 10 % 4')).toBe(-1);
    expect(evaluate('sqrt(16) / 2')).toBe(2);
    expect(okResult(await callTool(calculator, { expression: '0.1 + 0.2' }))).toEqual({
      expression: '0.1 + 0.2',
      result: 0.3,
    });
  });
  it('reports bad expressions as errors, never evaluates code', async () => {
    for (const expression of ['1 / 0', '2 +', 'process.exit()', 'sqrt(-1)', '(1']) {
      expect(await callTool(calculator, { expression })).toMatchObject({ status: 'error', code: 'tool_error' });
    }
    expect(await callTool(calculator, { expression: '' })).toMatchObject({ code: 'invalid_arguments' });
    expect(await callTool(calculator, {})).toMatchObject({ code: 'invalid_arguments' });
  });
});
