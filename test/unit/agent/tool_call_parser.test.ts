import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLenientJson, parseToolCalls, ToolCallTextFilter } from '../../../src/agent/tool_call_parser.ts';

const ok = (name: string, args: Record<string, unknown>) =>
  expect.objectContaining({ ok: true, name, arguments: args });

describe('parseToolCalls: every form of docs/model.md, "Tokens and prompts"', () => {
  it.each([
    ['tagged list', '<|tool_call|>[{"name": "f", "arguments": {"a": 1}}]<|/tool_call|>'],
    ['tagged single object', '<|tool_call|>{"name": "f", "arguments": {"a": 1}}<|/tool_call|>'],
    ['parameters instead of arguments', '<|tool_call|>[{"name": "f", "parameters": {"a": 1}}]<|/tool_call|>'],
    ['arguments as a JSON string', '<|tool_call|>[{"name": "f", "arguments": "{\\"a\\": 1}"}]<|/tool_call|>'],
    ['functools prefix', 'functools[{"name": "f", "arguments": {"a": 1}}]'],
    ['bare JSON list', '[{"name": "f", "arguments": {"a": 1}}]'],
    ['bare object', '  {"name": "f", "arguments": {"a": 1}}'],
    ['missing closing tag', '<|tool_call|>[{"name": "f", "arguments": {"a": 1}}]'],
    ['truncated JSON', '<|tool_call|>[{"name": "f", "arguments": {"a": 1'],
    [
      'OpenAI function wrapper',
      '<|tool_call|>[{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]<|/tool_call|>',
    ],
  ])('%s', (_label, text) => {
    expect(parseToolCalls(text)).toEqual({ text: '', calls: [ok('f', { a: 1 })] });
  });

  it('keeps the text before the call and reads several calls', () => {
    const parsed = parseToolCalls(
      'Checking both. <|tool_call|>[{"name": "f", "arguments": {}}, {"name": "g", "arguments": {"x": "y"}}]<|/tool_call|>',
    );
    expect(parsed.text).toBe('Checking both.');
    expect(parsed.calls).toEqual([ok('f', {}), ok('g', { x: 'y' })]);
  });

  it('reads consecutive tagged calls', () => {
    const parsed = parseToolCalls(
      '<|tool_call|>{"name": "f", "arguments": {}}<|/tool_call|><|tool_call|>{"name": "g", "arguments": {}}<|/tool_call|>',
    );
    expect(parsed.calls.map((c) => c.name)).toEqual(['f', 'g']);
  });

  it('malformed calls are reported, not thrown', () => {
    expect(parseToolCalls('<|tool_call|>not json at all<|/tool_call|>').calls).toEqual([
      expect.objectContaining({ ok: false }),
    ]);
    expect(parseToolCalls('<|tool_call|><|/tool_call|>').calls).toEqual([
      expect.objectContaining({ ok: false, error: 'empty tool call' }),
    ]);
    expect(parseToolCalls('<|tool_call|>[{"arguments": {}}]<|/tool_call|>').calls).toEqual([
      expect.objectContaining({ ok: false }),
    ]);
    expect(parseToolCalls('<|tool_call|>[{"name": "f", "arguments": [1]}]<|/tool_call|>').calls).toEqual([
      expect.objectContaining({ ok: false, name: 'f', error: 'the arguments must be a JSON object' }),
    ]);
    expect(parseToolCalls('<|tool_call|>{"name": "f", "arguments": {"a": ]}<|/tool_call|>').calls[0]).toMatchObject({
      ok: false,
      name: 'f',
    });
  });

  it('plain answers have no calls', () => {
    expect(parseToolCalls('It is 3 pm [local time].')).toEqual({ text: 'It is 3 pm [local time].', calls: [] });
  });

  it('property: never throws on any text', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('', '<|tool_call|>', 'functools', '[', '{"name": "'),
        (s, prefix) => {
          const parsed = parseToolCalls(prefix + s);
          return Array.isArray(parsed.calls);
        },
      ),
      { numRuns: 500, seed: 5 },
    );
  });

  it('lenient JSON repairs truncation only', () => {
    expect(parseLenientJson('{"a": "b')).toEqual({ a: 'b' });
    expect(parseLenientJson('{"a": 1,')).toEqual({ a: 1 });
    expect(parseLenientJson('{"a": 1, "b":')).toEqual({ a: 1 });
    expect(parseLenientJson('{"a": ]')).toBeUndefined();
  });
});

describe('ToolCallTextFilter', () => {
  const stream = (pieces: string[]) => {
    const filter = new ToolCallTextFilter();
    const out = pieces.map((p) => filter.push(p)).join('');
    return out + filter.finish(parseToolCalls(pieces.join('')));
  };

  it('never streams call markup, whatever the chunking', () => {
    const text = 'Sure. <|tool_call|>[{"name": "f", "arguments": {}}]<|/tool_call|>';
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const pieces = [0, ...points].map((p, i) => text.slice(p, points[i] ?? text.length));
        return stream(pieces) === 'Sure.';
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('passes plain text through, holding only what may be a marker', () => {
    const filter = new ToolCallTextFilter();
    expect(filter.push('Hello <|to')).toBe('Hello');
    expect(filter.push('tal|> world')).toBe(' <|total|> world');
    expect(stream(['[not a call]'])).toBe('[not a call]');
  });
});
