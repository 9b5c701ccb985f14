import { beforeEach, describe, expect, it } from 'vitest';
import { toolChoicePrefix } from '../../../src/agent/response_runner.ts';
import { NO_TOOLS_INSTRUCTION } from '../../../src/agent/prompts.ts';
import { ScriptedEngine, type ReplyContext, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { lookupCalls, makeHarness, saidIn, testAgent } from './runtime_harness.ts';

// tool_choice is enforced in the prompt: 'none' offers no tools, 'required' starts the assistant turn with
// `<|tool_call|>`, a named function also writes its name; the prefix counts as the model's output.

beforeEach(() => {
  lookupCalls.length = 0;
});

function textMessage(text: string) {
  return { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] };
}

/** A model that never calls a tool on its own: only a prefix makes it write a call. */
function reluctant(ctx: ReplyContext): string {
  if (ctx.toolResponses.length > 0) return `It is ${JSON.parse(ctx.toolResponses[0]).weather}.`;
  if (ctx.assistantPrefix === '<|tool_call|>')
    return '<|tool_call|>[{"name": "lookup", "arguments": {"city": "Rome"}}]<|/tool_call|>';
  // Continues after a named-function prefix: only the arguments (and no closing tag: the turn just ends).
  if (ctx.assistantPrefix.startsWith('<|tool_call|>[{"name": "lookup"')) return '{"city": "Oslo"}}]';
  return 'I would rather chat.';
}

function generationsOf(engine: ScriptedEngine) {
  return (engine.sessions[0] as ScriptedSession).generations;
}

describe('toolChoicePrefix', () => {
  it('opens a call for required, writes the name for a known function, nothing otherwise', () => {
    const names = new Set(['lookup']);
    expect(toolChoicePrefix('required', names)).toBe('<|tool_call|>');
    expect(toolChoicePrefix({ type: 'function', name: 'lookup' }, names)).toBe(
      '<|tool_call|>[{"name": "lookup", "arguments": ',
    );
    expect(toolChoicePrefix('auto', names)).toBe('');
    expect(toolChoicePrefix('none', names)).toBe('');
    expect(toolChoicePrefix('required', new Set())).toBe('');
    expect(toolChoicePrefix({ type: 'function', name: 'other' }, names)).toBe('');
  });
});

describe('tool_choice', () => {
  it("'auto' (default): no prefix, the model answers in text", async () => {
    const engine = new ScriptedEngine({ answer: reluctant });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(generationsOf(engine).map((g) => g.assistantPrefix)).toEqual(['']);
    expect(lookupCalls).toEqual([]);
    expect(saidIn(h.events, h.ofType('response.done')[0].response.id)).toBe('I would rather chat.');
  });

  it("session 'required': the first generation starts with <|tool_call|>, the call runs, the next round is free", async () => {
    const engine = new ScriptedEngine({ answer: reluctant });
    const h = makeHarness({ engine });
    h.state.apply({ tool_choice: 'required' });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(generationsOf(engine).map((g) => g.assistantPrefix)).toEqual(['<|tool_call|>', '']);
    expect(lookupCalls).toEqual([{ city: 'Rome' }]);
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('completed');
    expect(done.output.map((i) => i.type)).toEqual(['function_call', 'function_call_output', 'message']);
    expect(saidIn(h.events, done.id)).toBe('It is sunny.');
    // The prefix is part of the assistant turn in the session.
    const log = (engine.sessions[0] as ScriptedSession).log;
    expect(log.find((e) => e.role === 'assistant')?.text).toBe(
      '<|tool_call|>[{"name": "lookup", "arguments": {"city": "Rome"}}]<|/tool_call|>',
    );
  });

  it('a named function on response.create: the prefix writes the name, the model only the arguments', async () => {
    const engine = new ScriptedEngine({ answer: reluctant });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse({ tool_choice: { type: 'function', name: 'lookup' } });
    await h.runtime.whenIdle();
    expect(generationsOf(engine)[0].assistantPrefix).toBe('<|tool_call|>[{"name": "lookup", "arguments": ');
    expect(lookupCalls).toEqual([{ city: 'Oslo' }]);
    const done = h.ofType('response.done')[0].response;
    expect(done.output[0]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"city":"Oslo"}' });
    expect(saidIn(h.events, done.id)).toBe('It is sunny.');
    // Only that response: the next one is free again.
    h.runtime.createItem(textMessage('thanks'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(generationsOf(engine).at(-1)!.assistantPrefix).toBe('');
  });

  it("session 'none': the system prompt offers no tools and nothing is prefixed, even with required tools elsewhere", async () => {
    const engine = new ScriptedEngine({ answer: reluctant });
    const h = makeHarness({ engine });
    h.state.apply({ tool_choice: 'none' });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const log = (engine.sessions[0] as ScriptedSession).log;
    expect(log[0]).toMatchObject({ role: 'system', tools: [] });
    expect(generationsOf(engine).map((g) => g.assistantPrefix)).toEqual(['']);
  });

  it("response 'none' under a session with tools: a transient system turn offers none and says so", async () => {
    const engine = new ScriptedEngine({ answer: (ctx) => (captureSystems(ctx), reluctant(ctx)) });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse({ tool_choice: 'none' });
    await h.runtime.whenIdle();
    expect(systemsAtGeneration.map((s) => s.tools.map((t) => t.name))).toEqual([['lookup'], []]);
    expect(systemsAtGeneration[1].text).toBe(NO_TOOLS_INSTRUCTION);
    expect(generationsOf(engine)[0].assistantPrefix).toBe('');
    expect(h.errors).toEqual([]);
    expect(saidIn(h.events, h.ofType('response.done')[0].response.id)).toBe('I would rather chat.');
    // The transient turn is gone afterwards; the answer stays.
    const log = (engine.sessions[0] as ScriptedSession).log;
    expect(log.map((e) => e.role)).toEqual(['system', 'user', 'assistant']);
  });

  it("response 'required' under session 'none': the session's tools are offered for that response and a call is forced", async () => {
    const engine = new ScriptedEngine({ answer: (ctx) => (captureSystems(ctx), reluctant(ctx)) });
    const h = makeHarness({ engine, agent: testAgent() });
    h.state.apply({ tool_choice: 'none' });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse({ tool_choice: 'required' });
    await h.runtime.whenIdle();
    expect(systemsAtGeneration.map((s) => s.tools.map((t) => t.name))).toEqual([[], ['lookup']]);
    expect(generationsOf(engine)[0].assistantPrefix).toBe('<|tool_call|>');
    expect(lookupCalls).toEqual([{ city: 'Rome' }]);
  });
});

/** The system turns in the prompt of the first generation of a test. */
let systemsAtGeneration: { text: string; tools: { name: string }[] }[] = [];
function captureSystems(ctx: ReplyContext): void {
  if (ctx.session.generations.length === 0)
    systemsAtGeneration = ctx.session.log.flatMap((e) =>
      e.role === 'system' ? [{ text: e.text, tools: e.tools }] : [],
    );
}
