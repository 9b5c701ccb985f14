import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import { appendIds } from '../../../src/engine/phi4mm/chat_template.ts';
import { SINGLE_THREAD, tinyModelDir } from '../engine_host/engine_fixture.ts';

// Text of about a megabyte used to fail with E_ENGINE "Maximum call stack size
// exceeded" (`ids.push(...encodeLiteral(text))` passes every id as an argument). It must reach the
// context budget and fail there, with E_CONTEXT_OVERFLOW, on the real engine with the tiny model.
let engine: Phi4Engine;
beforeAll(async () => {
  engine = await Phi4Engine.load({
    modelDir: await tinyModelDir(),
    sessionOptions: SINGLE_THREAD,
    prefillChunkTokens: 64,
  });
}, 120_000);
afterAll(async () => engine?.close());

/** ~1.2 MB of ordinary words and lines (well past the ~120k arguments a call may spread). */
const HUGE = 'the quick brown fox jumps over the lazy dog\n'.repeat(28_000);

describe('megabyte text on the engine', () => {
  it('a user turn fails with E_CONTEXT_OVERFLOW, and the session still works', async () => {
    const session = await engine.createSession();
    await session.appendSystem({ instructions: 'Be brief.' });
    await expect(session.appendUser([{ type: 'text', text: HUGE }])).rejects.toMatchObject({
      code: 'E_CONTEXT_OVERFLOW',
    });
    await session.appendUser([{ type: 'text', text: 'hello' }]);
    await session.dispose();
  }, 120_000);

  it('instructions fail with E_CONTEXT_OVERFLOW', async () => {
    const session = await engine.createSession();
    await expect(session.appendSystem({ instructions: HUGE })).rejects.toMatchObject({ code: 'E_CONTEXT_OVERFLOW' });
    await session.dispose();
  }, 120_000);
});

describe('appendIds', () => {
  it('appends any number of ids in order, as concat would', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 50 }), fc.integer({ min: 0, max: 300_000 }), (head, n) => {
        const out = [...head];
        const ids = Array.from({ length: n }, (_, i) => i % 200_000);
        appendIds(out, ids);
        expect(out.length).toBe(head.length + n);
        expect(out.slice(0, head.length)).toEqual(head);
        if (n > 0) expect(out.at(-1)).toBe(ids.at(-1));
      }),
      { numRuns: 8 },
    );
  });
});
