// A tool step whose result cannot be prefilled (the engine fails while appending the tool response):
// the response ends `failed`, the context keeps the call the model wrote but no half-added result, and
// the next turns answer normally. The real model cannot drive this case: the tiny fixture model never
// writes a readable call, and a call the parser cannot read is shown as text and never run (so nothing
// is prefilled); the real engine's own rollback of a failed prefill is covered by the engine tests.
import { beforeEach, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { lookupCalls, makeHarness } from './runtime_harness.ts';

const CALL = '<|tool_call|>[{"name": "lookup", "arguments": {"city": "Paris"}}]<|/tool_call|>';

beforeEach(() => {
  lookupCalls.length = 0;
});

function textMessage(text: string) {
  return { type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text }] };
}

/** An engine whose sessions fail the first tool-response prefill, as a failed graph run would. */
function engineFailingFirstToolPrefill(): ScriptedEngine {
  const engine = new ScriptedEngine({
    answer: (ctx) =>
      ctx.toolResponses.length === 0 ? `Let me look. ${CALL}` : `It is ${JSON.parse(ctx.toolResponses[0]).weather}.`,
  });
  const create = engine.createSession.bind(engine);
  engine.createSession = async (...args: Parameters<ScriptedEngine['createSession']>) => {
    const session = (await create(...args)) as ScriptedSession;
    const append = session.appendToolResponse.bind(session);
    let failed = false;
    session.appendToolResponse = async (json: string) => {
      if (failed) return append(json);
      failed = true;
      throw new EarshotError('E_ENGINE', 'injected: the tool result prefill failed');
    };
    return session;
  };
  return engine;
}

describe('a tool step fails', () => {
  it('response.done failed with the engine code; no tool result stays in the context; the next three turns complete', async () => {
    const engine = engineFailingFirstToolPrefill();
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('weather in Paris?'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(lookupCalls).toEqual([{ city: 'Paris' }]);
    const failed = h.ofType('response.done')[0].response;
    expect(failed.status).toBe('failed');
    expect(failed.status_details).toMatchObject({ type: 'failed', error: { code: 'E_ENGINE' } });
    const session = engine.sessions[0];
    // The call the model wrote stays (it was complete); the result that failed to prefill is not there.
    expect(session.log.map((e) => e.role)).toEqual(['system', 'user', 'assistant']);

    // The next three turns complete, each calling the tool again, and now its result is prefilled.
    for (const [i, text] of ['and now?', 'and tomorrow?', 'thanks'].entries()) {
      h.runtime.createItem(textMessage(text));
      h.runtime.createResponse(undefined);
      await h.runtime.whenIdle();
      expect(h.ofType('response.done')[1 + i].response.status).toBe('completed');
    }
    const toolTurn = ['user', 'assistant', 'tool', 'assistant'];
    expect(session.log.map((e) => e.role)).toEqual([
      'system',
      'user',
      'assistant',
      ...toolTurn,
      ...toolTurn,
      ...toolTurn,
    ]);
    expect(lookupCalls).toHaveLength(4);
    expect(h.errors).toEqual([]);
  });
});
