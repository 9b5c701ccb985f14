import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

// A small arithmetic evaluator (never eval): numbers, + - * / % ^, parentheses, unary minus, sqrt().
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|\*\*|sqrt|[-+*/%^()]|\S/gi) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`expected "${t}"`);
  };
  const primary = (): number => {
    const t = next();
    if (t === undefined) throw new Error('unexpected end of expression');
    if (t === '(') {
      const v = sum();
      expect(')');
      return v;
    }
    if (t === '-') return -power();
    if (t === '+') return power();
    if (t.toLowerCase() === 'sqrt') {
      expect('(');
      const v = sum();
      expect(')');
      if (v < 0) throw new Error('square root of a negative number');
      return Math.sqrt(v);
    }
    const n = Number(t);
    if (!Number.isFinite(n)) throw new Error(`unexpected "${t}"`);
    return n;
  };
  const power = (): number => {
    const base = primary();
    if (peek() === '^' || peek() === '**') {
      next();
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = next();
      const r = power();
      if ((op === '/' || op === '%') && r === 0) throw new Error('division by zero');
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = next() === '+' ? v + product() : v - product();
    return v;
  };
  const result = sum();
  if (i < tokens.length) throw new Error(`unexpected "${tokens[i]}"`);
  if (!Number.isFinite(result)) throw new Error('the result is not a finite number');
  return result;
}

export const calculator = defineTool({
  name: 'calculator',
  description: 'Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt(). Use it for any arithmetic.',
  parameters: z.object({ expression: z.string().min(1).max(500).describe('e.g. (12.5 * 3) / 4') }),
  execute: ({ expression }) => {
    const result = evaluate(expression);
    return { expression, result: Number(result.toPrecision(12)) };
  },
});
