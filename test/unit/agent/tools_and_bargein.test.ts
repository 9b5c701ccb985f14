import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../../src/agent/tool.ts';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { lookupCalls, lookupTool, makeHarness, saidIn, testAgent, utterance } from './runtime_harness.ts';

const CALL = '<|tool_call|>[{"name": "lookup", "arguments": {"city": "Paris"}}]<|/tool_call|>';

beforeEach(() => {
  lookupCalls.length = 0;
});

function textMessage(text: string) {
  return { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] };
}

describe('server tools', () => {
  it('a full round: call, execution, result fed back, final answer; reported as items', async () => {
    const engine = new ScriptedEngine({
      answer: (ctx) =>
        ctx.toolResponses.length === 0
          ? `Let me look. ${CALL}`
          : `In Paris it is ${JSON.parse(ctx.toolResponses[0]).weather}.`,
    });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather in Paris?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(lookupCalls).toEqual([{ city: 'Paris' }]);
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('completed');
    expect(done.output.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output', 'message']);
    expect(done.output[1]).toMatchObject({
      type: 'function_call',
      name: 'lookup',
      status: 'completed',
      arguments: '{"city":"Paris"}',
    });
    expect(done.output[2]).toMatchObject({
      type: 'function_call_output',
      output: '{"city":"Paris","weather":"sunny"}',
    });
    expect(h.ofType('response.function_call_arguments.done')[0]).toMatchObject({
      name: 'lookup',
      arguments: '{"city":"Paris"}',
    });
    // Clients never see the call markup as text.
    expect(saidIn(h.events, done.id)).toBe('Let me look.In Paris it is sunny.');
    expect(h.ofType('response.output_text.done').map((e) => e.text)).toEqual(['Let me look.', 'In Paris it is sunny.']);
    const session = engine.sessions[0] as ScriptedSession;
    expect(session.log.map((e) => e.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(session.log[0]).toMatchObject({
      tools: [{ name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(done.usage!.output_tokens).toBe(session.generations.reduce((n, g) => n + g.steps, 0));
  });

  it('a call the parser cannot read is shown as text: no invented call, no server-made output', async () => {
    const engine = new ScriptedEngine({
      answer: (ctx) =>
        ctx.toolResponses.length === 0
          ? 'Checking. <|tool_call|>[{"name": "lookup", "arguments": {"city": ]<|/tool_call|>'
          : 'Sorry, I could not check.',
    });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(lookupCalls).toEqual([]);
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('completed');
    expect(done.output.map((i) => i.type)).toEqual(['message']);
    expect(h.ofType('response.function_call_arguments.done')).toEqual([]);
    expect(saidIn(h.events, done.id)).toBe('Checking.\n[{"name": "lookup", "arguments": {"city": ]');
    // One generation: nothing was fed back to the model as a tool result.
    expect((engine.sessions[0] as ScriptedSession).log.map((e) => e.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('invalid arguments and unknown tools become error results', async () => {
    const engine = new ScriptedEngine({
      answer: (ctx) =>
        ctx.toolResponses.length === 0
          ? '<|tool_call|>[{"name": "lookup", "arguments": {"city": 5}}, {"name": "nope", "arguments": {}}]<|/tool_call|>'
          : 'done',
    });
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('x'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const outputs = h.ofType('response.done')[0].response.output.filter((i) => i.type === 'function_call_output');
    expect(outputs.map((o) => ('output' in o ? JSON.parse(o.output).error : ''))).toEqual([
      expect.stringMatching(/Invalid arguments for lookup/),
      expect.stringMatching(/Unknown tool "nope"/),
    ]);
    expect(lookupCalls).toEqual([]);
  });

  it('a tool that times out is aborted and reported as a timeout; the answer goes on', async () => {
    let sawAbort = false;
    let started = false;
    const slow = defineTool({
      name: 'slow',
      description: 'never answers',
      parameters: z.object({}),
      timeoutMs: 30,
      execute: (_args, { signal }) =>
        new Promise(() => {
          started = true;
          signal.addEventListener('abort', () => (sawAbort = true));
        }),
    });
    const engine = new ScriptedEngine({
      answer: (ctx) =>
        ctx.toolResponses.length === 0
          ? '<|tool_call|>{"name": "slow", "arguments": {}}<|/tool_call|>'
          : 'It took too long.',
    });
    // Fake setTimeout: the tool's deadline is hit exactly, not after a real wait (setImmediate stays real).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const h = makeHarness({ engine, agent: testAgent([slow]) });
      h.runtime.createItem(textMessage('x'));
      h.runtime.createResponse(undefined);
      const idle = h.runtime.whenIdle();
      // The engine turns on setImmediate (real): let it run until the tool is called, without moving time.
      for (let i = 0; i < 1000 && !started; i++) await new Promise((r) => setImmediate(r));
      expect(started).toBe(true);
      await vi.advanceTimersByTimeAsync(29);
      expect(sawAbort).toBe(false); // still inside its 30 ms
      await vi.advanceTimersByTimeAsync(1);
      expect(sawAbort).toBe(true); // aborted at 30 ms exactly
      await idle;
      const done = h.ofType('response.done')[0].response;
      const output = done.output.find((i) => i.type === 'function_call_output');
      expect(output && 'output' in output ? output.output : '').toContain('did not answer within 30 ms');
      expect(saidIn(h.events, done.id)).toBe('It took too long.');
    } finally {
      vi.useRealTimers();
    }
  });

  it('the step limit stops a model that keeps calling tools', async () => {
    const engine = new ScriptedEngine({ answer: () => CALL });
    const h = makeHarness({ engine, settings: { maxToolSteps: 2 } });
    h.runtime.createItem(textMessage('loop'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(lookupCalls).toHaveLength(2);
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('completed');
    const session = engine.sessions[0] as ScriptedSession;
    expect(session.generations).toHaveLength(3);
    const outputs = done.output.filter((i) => i.type === 'function_call_output');
    expect(outputs).toHaveLength(3);
    expect('output' in outputs[2] && outputs[2].output).toMatch(/step limit/);
  });
});

describe('client tools', () => {
  it('are returned as function_call items; function_call_output + response.create continue the conversation', async () => {
    const engine = new ScriptedEngine({
      answer: (ctx) =>
        ctx.toolResponses.length === 0
          ? '<|tool_call|>[{"name": "get_location", "parameters": {"precise": true}}]<|/tool_call|>'
          : `You are in ${JSON.parse(ctx.toolResponses[0]).city}.`,
    });
    const h = makeHarness({ engine });
    h.state.apply({
      tools: [
        {
          type: 'function',
          name: 'get_location',
          description: 'where the user is',
          parameters: { type: 'object', properties: { precise: { type: 'boolean' } } },
        },
      ],
    });
    h.runtime.promptChanged();
    h.runtime.createItem(textMessage('where am I?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const first = h.ofType('response.done')[0].response;
    expect(first.status).toBe('completed');
    expect(first.output).toHaveLength(1);
    const call = first.output[0];
    expect(call).toMatchObject({
      type: 'function_call',
      name: 'get_location',
      status: 'completed',
      arguments: '{"precise":true}',
    });
    expect(h.ofType('response.function_call_arguments.delta')[0].delta).toBe('{"precise":true}');
    expect(h.ofType('response.output_item.done').at(-1)!.item).toMatchObject({
      type: 'function_call',
      status: 'completed',
    });
    expect(lookupCalls).toEqual([]);

    h.runtime.createItem({
      type: 'function_call_output',
      call_id: 'call_id' in call ? call.call_id : '',
      output: '{"city": "Oslo"}',
    });
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const second = h.ofType('response.done')[1].response;
    expect(saidIn(h.events, second.id)).toBe('You are in Oslo.');
    const session = engine.sessions[0] as ScriptedSession;
    expect(session.log[0]).toMatchObject({ tools: [{ name: 'lookup' }, { name: 'get_location' }] });
    expect(session.log.map((e) => e.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
  });
});

describe('barge-in and cancel', () => {
  const LONG = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

  it('speech during a response cancels it within one decode step; the partial answer stays in context', async () => {
    const h = makeHarness({ engine: null });
    const engine = new ScriptedEngine({
      answer: () => LONG,
      beforeStep: ({ step, kind }) => {
        if (kind === 'answer' && step === 10 && !fired) {
          fired = true;
          h.runtime.speechStarted(5000, 5000);
        }
        return new Promise((r) => setImmediate(r));
      },
    });
    let fired = false;
    const hh = makeHarness({ engine });
    Object.assign(h, hh);
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('cancelled');
    expect(done.status_details).toMatchObject({ type: 'cancelled', reason: 'turn_detected' });
    const session = engine.sessions[0] as ScriptedSession;
    const trace = session.generations.find((g) => g.kind === 'answer')!;
    expect(trace.stepsAtAbort).toBe(10);
    expect(trace.steps - trace.stepsAtAbort!).toBeLessThanOrEqual(1);
    const said = saidIn(h.events, done.id);
    expect(said).toBe(LONG.split(' ').slice(0, 10).join(' '));
    // The context keeps what the user was told and nothing after it.
    const last = session.log.at(-1)!;
    expect(last).toMatchObject({ role: 'assistant', text: said });
    expect(h.ofType('response.output_item.done')[0].item).toMatchObject({
      status: 'incomplete',
      content: [{ text: said }],
    });
    // The conversation goes on after the interruption.
    engine.options.answer = () => 'Yes?';
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[1].response.status).toBe('completed');
  });

  it('speech shorter than interrupt_min_speech_ms does not interrupt; longer speech does', async () => {
    let step = 0;
    let resolveGate: (() => void) | null = null;
    const engine = new ScriptedEngine({
      answer: () => LONG,
      beforeStep: ({ kind }) => {
        if (kind !== 'answer') return;
        step++;
        if (step === 5) return new Promise<void>((r) => (resolveGate = r));
      },
    });
    const h = makeHarness({ engine, settings: { interruptMinSpeechMs: 300 } });
    h.runtime.enqueueUtterance(utterance());
    await new Promise<void>((r) => {
      const poll = () => (resolveGate ? r() : setImmediate(poll));
      poll();
    });
    h.runtime.speechStarted(10_000, 10_000);
    h.runtime.audioClock(10_200);
    h.runtime.speechStopped(10_150); // a cough: 150 ms
    h.runtime.speechStarted(11_000, 11_000);
    h.runtime.audioClock(11_200);
    expect(h.types()).not.toContain('response.done');
    h.runtime.audioClock(11_300); // 300 ms of speech: interrupt
    resolveGate!();
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response.status_details).toMatchObject({ reason: 'turn_detected' });
    expect(saidIn(h.events, h.ofType('response.done')[0].response.id)).toBe(LONG.split(' ').slice(0, 4).join(' '));
  });

  it('interrupt_response false lets the answer finish', async () => {
    const engine = new ScriptedEngine({
      answer: () => 'short answer here',
      beforeStep: ({ step, kind }) => void (kind === 'answer' && step === 1 && h.runtime.speechStarted(0, 1000)),
    });
    const h = makeHarness({ engine });
    h.state.apply({ audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } } });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response.status).toBe('completed');
  });

  it('response.cancel gives reason client_cancelled', async () => {
    const engine = new ScriptedEngine({
      answer: () => LONG,
      beforeStep: ({ step, kind }) =>
        void (kind === 'answer' && step === 3 && h.runtime.cancelResponse('client_cancelled')),
    });
    const h = makeHarness({ engine });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response).toMatchObject({
      status: 'cancelled',
      status_details: { reason: 'client_cancelled' },
    });
    expect(h.runtime.cancelResponse('client_cancelled')).toBe(false);
  });

  it('barge-in during a tool call aborts the tool and cancels the response', async () => {
    let aborted = false;
    const waiting = defineTool({
      name: 'lookup',
      description: 'waits for its signal',
      parameters: z.object({ city: z.string() }),
      execute: (_a, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => ((aborted = true), reject(new Error('aborted'))));
          h.runtime.speechStarted(0, 1000);
        }),
    });
    const engine = new ScriptedEngine({ answer: () => CALL });
    const h = makeHarness({ engine, agent: testAgent([waiting]) });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(aborted).toBe(true);
    expect(h.ofType('response.done')[0].response.status_details).toMatchObject({ reason: 'turn_detected' });
    expect(lookupTool.name).toBe('lookup');
  });
});

describe('ordering under concurrent turns', () => {
  it('each transcript completes before the first delta of the answer to it; turns run in order', async () => {
    const engines = [0, 1].map(
      (c) =>
        new ScriptedEngine({
          transcribe: (pcm) => `conn${c} turn${pcm[0]}`,
          answer: (ctx) => `answer to ${ctx.heard} with several words in it`,
        }),
    );
    const harnesses = engines.map((engine) => makeHarness({ engine }));
    for (const h of harnesses)
      h.state.apply({ audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } } });
    // Three utterances per connection, all arriving at once, two connections at once.
    for (let i = 0; i < 3; i++) for (const h of harnesses) h.runtime.enqueueUtterance(utterance(500, i));
    await Promise.all(harnesses.map((h) => h.runtime.whenIdle()));
    for (const [c, h] of harnesses.entries()) {
      const completed = h.events.flatMap((e, i) =>
        e.type === 'conversation.item.input_audio_transcription.completed' ? [i] : [],
      );
      const responses = h.ofType('response.done').map((d) => d.response.id);
      expect(completed).toHaveLength(3);
      expect(responses).toHaveLength(3);
      for (let turn = 0; turn < 3; turn++) {
        const firstDelta = h.events.findIndex(
          (e) => e.type === 'response.output_text.delta' && e.response_id === responses[turn],
        );
        const lastOfPrevious =
          turn === 0
            ? -1
            : h.events.findIndex((e) => e.type === 'response.done' && e.response.id === responses[turn - 1]);
        expect(completed[turn]).toBeLessThan(firstDelta);
        expect(completed[turn]).toBeGreaterThan(lastOfPrevious);
        expect(saidIn(h.events, responses[turn])).toBe(`answer to conn${c} turn${turn} with several words in it`);
      }
    }
  });
});
