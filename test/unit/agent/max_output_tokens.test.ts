import { describe, expect, it } from 'vitest';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { makeHarness } from './runtime_harness.ts';

// max_output_tokens 'inf' (the default, as in OpenAI's API) is bounded by the context budget, and by the
// operator's agent.max_output_tokens only when one is configured; a number still limits the response.

const LONG = Array.from({ length: 700 }, (_, i) => `w${i}`).join(' ');
const userText = (text: string) => ({
  type: 'message' as const,
  role: 'user' as const,
  content: [{ type: 'input_text' as const, text }],
});

describe('max_output_tokens', () => {
  it("'inf' lets a 700-token answer finish when the server sets no cap", async () => {
    const h = makeHarness({
      engine: new ScriptedEngine({ answer: () => LONG }),
      settings: { contextBudgetTokens: 4096 },
    });
    expect(h.state.maxOutputTokens).toBe('inf');
    h.runtime.createItem(userText('talk'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const done = h.ofType('response.done')[0].response;
    expect(done).toMatchObject({ status: 'completed', max_output_tokens: 'inf' });
    expect(done.usage!.output_tokens).toBe(700);
  });

  it("'inf' stops at the operator's agent.max_output_tokens when one is set", async () => {
    const h = makeHarness({
      engine: new ScriptedEngine({ answer: () => LONG }),
      settings: { defaultMaxOutputTokens: 200, contextBudgetTokens: 4096 },
    });
    h.runtime.createItem(userText('talk'));
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    const done = h.ofType('response.done')[0].response;
    expect(done).toMatchObject({
      status: 'incomplete',
      status_details: { reason: 'max_output_tokens' },
      max_output_tokens: 'inf',
    });
    expect(done.usage!.output_tokens).toBe(200);
  });

  it('a number ends the response incomplete at that many tokens', async () => {
    const h = makeHarness({ engine: new ScriptedEngine({ answer: () => LONG }) });
    h.runtime.createItem(userText('talk'));
    h.runtime.createResponse({ max_output_tokens: 50 });
    await h.runtime.whenIdle();
    const done = h.ofType('response.done')[0].response;
    expect(done).toMatchObject({ status: 'incomplete', status_details: { reason: 'max_output_tokens' } });
    expect(done.usage!.output_tokens).toBe(50);
  });
});
