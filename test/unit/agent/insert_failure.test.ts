// An item inserted mid-conversation (previous_item_id) rewinds the session to before the later turns,
// appends the item, then appends the later turns again. When the engine fails in between, the later
// turns must not be lost: the history is put back and the next use rebuilds the session from it.
import { describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { makeHarness } from './runtime_harness.ts';

function textMessage(id: string, text: string) {
  return { type: 'message' as const, role: 'user' as const, id, content: [{ type: 'input_text' as const, text }] };
}

describe('an insert whose append fails', () => {
  it('reports the error, keeps the later turns, and the next response sees the whole conversation', async () => {
    const engine = new ScriptedEngine({ answer: (ctx) => `Heard ${ctx.lastUser?.text ?? ''}` });
    let failNext = false;
    const create = engine.createSession.bind(engine);
    engine.createSession = async () => {
      const session = (await create()) as ScriptedSession;
      const appendUser = session.appendUser.bind(session);
      session.appendUser = async (parts) => {
        if (!failNext) return appendUser(parts);
        failNext = false;
        throw new EarshotError('E_ENGINE', 'injected: the inserted turn failed to prefill');
      };
      return session;
    };
    const h = makeHarness({ engine });
    h.runtime.createItem(textMessage('item_a', 'first'));
    h.runtime.createItem(textMessage('item_b', 'second'));
    await h.runtime.whenIdle();
    failNext = true;
    h.runtime.createItem(textMessage('item_c', 'inserted'), undefined, undefined, 'item_a');
    await h.runtime.whenIdle();
    expect(h.errors.map((e) => e.code)).toEqual(['E_ENGINE']);
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response.status).toBe('completed');
    const last = engine.sessions.at(-1)!;
    expect(last.log.filter((e) => e.role === 'user').map((e) => e.text)).toEqual(['first', 'second']);
  });
});
