import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationContext } from '../../../src/agent/conversation_context.ts';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';

// Insertion in the middle of a conversation on the real engine (the generated tiny Phi-4-mm model in its
// worker): rewinding to the turn after the insertion point and re-appending what follows must leave the
// session exactly as if the turns had been appended in that order: same length, same greedy answer.

let host: EngineHost;
beforeAll(async () => {
  host = createEngineHost({ modelDir: await ensureFixtureModel('tiny'), intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
}, 300_000);
afterAll(async () => {
  await host?.close();
});

const system = () => ({ instructions: 'Answer briefly.', tools: [] });

async function greedy(context: ConversationContext): Promise<string> {
  let text = '';
  for await (const event of await context.generate({ maxNewTokens: 8 })) if (event.type === 'delta') text += event.text;
  return text;
}

describe('ConversationContext.insertAfter on the tiny ONNX model', () => {
  it('equals a session that had the turns in that order, and keeps the prefix before the insertion point', async () => {
    const inserted = new ConversationContext(host, system, 4096);
    await inserted.appendUserText('first question', ['item_a']);
    await inserted.appendAssistant('first answer', ['item_b']);
    await inserted.appendUserText('second question', ['item_c']);
    const before = inserted.length;
    await inserted.insertAfter('item_b', () => inserted.appendUserText('an aside', ['item_m']));
    await inserted.insertAfter(null, () => inserted.appendUserText('opening words', ['item_r']));

    const ordered = new ConversationContext(host, system, 4096);
    await ordered.appendUserText('opening words', ['item_r']);
    await ordered.appendUserText('first question', ['item_a']);
    await ordered.appendAssistant('first answer', ['item_b']);
    await ordered.appendUserText('an aside', ['item_m']);
    await ordered.appendUserText('second question', ['item_c']);

    expect(inserted.length).toBeGreaterThan(before);
    expect(inserted.length).toBe(ordered.length);
    expect(inserted.history.map((e) => e.itemIds[0])).toEqual(['item_r', 'item_a', 'item_b', 'item_m', 'item_c']);
    expect(inserted.lastItemId()).toBe('item_c');
    expect(await greedy(inserted)).toBe(await greedy(ordered));
    await inserted.dispose();
    await ordered.dispose();
  });
});
