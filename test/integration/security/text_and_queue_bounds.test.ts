import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { startAgentServer } from '../agent/agent_server.ts';
import { waitFor } from '../../helpers/wait_for.ts';

// The per-connection bounds and the text size bounds: a client cannot queue
// unbounded turns or text for the shared engine, and oversized text is refused before it is tokenized.
// The scripted engine stands in for the model here: what is tested is the agent's queue, not inference.
let gate: Promise<void> = Promise.resolve();
let open: () => void = () => {};
function closeGate(): void {
  gate = new Promise((resolve) => (open = resolve));
}
const engine = new ScriptedEngine({ answer: () => 'ok', beforeStep: () => gate });

const ITEM_BYTES = 1000;
const INSTRUCTIONS_BYTES = 600;
let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine, {
    limits: {
      max_item_text_bytes: ITEM_BYTES,
      max_instructions_bytes: INSTRUCTIONS_BYTES,
      max_queued_turns: 4,
      max_pending_text_bytes: 2500,
      max_event_loop_delay_ms: 0,
    },
  });
});
afterAll(async () => server?.close());

const userText = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

/** Sends an event and returns the error it caused, or null once a round trip shows none came. */
async function errorOf(c: TestClient, event: Record<string, unknown>): Promise<ReceivedEvent | null> {
  const from = c.events.length;
  c.send({ ...event, event_id: 'evt_probe' });
  await c.roundTrip();
  return (
    c.events
      .slice(from)
      .find((e) => e.type === 'error' && (e.error as { event_id?: string }).event_id === 'evt_probe') ?? null
  );
}

describe('text size bounds', () => {
  it('refuses item text and instructions over their bound with E_TEXT_TOO_LARGE, and accepts them at the bound', async () => {
    const c = await TestClient.connect(server.url);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('a', 'é', '漢', '😀'), fc.integer({ min: 1, max: 700 }), async (ch, n) => {
          const text = ch.repeat(n);
          const bytes = Buffer.byteLength(text);
          const item = await errorOf(c, { type: 'conversation.item.create', item: userText(text) });
          if (bytes > ITEM_BYTES) expect(item?.error).toMatchObject({ code: 'E_TEXT_TOO_LARGE', param: 'item' });
          else expect((item?.error as { code?: string } | undefined)?.code).not.toBe('E_TEXT_TOO_LARGE');
          const session = await errorOf(c, {
            type: 'session.update',
            session: { type: 'realtime', instructions: text },
          });
          if (bytes > INSTRUCTIONS_BYTES)
            expect(session?.error).toMatchObject({ code: 'E_TEXT_TOO_LARGE', param: 'session.instructions' });
          else expect(session).toBeNull();
          const response = await errorOf(c, {
            type: 'response.create',
            response: { instructions: text, conversation: 'none', input: [] },
          });
          if (bytes > INSTRUCTIONS_BYTES)
            expect(response?.error).toMatchObject({ code: 'E_TEXT_TOO_LARGE', param: 'response.instructions' });
        }),
        { numRuns: 20 },
      );
      expect(
        await errorOf(c, { type: 'session.update', session: { type: 'realtime', instructions: 'short' } }),
      ).toBeNull();
    } finally {
      await c.close();
    }
  }, 120_000);
});

describe('per-connection queue bounds', () => {
  it('refuses turns past max_queued_turns with E_QUEUE_FULL and rate_limits.updated, and admits again once they ran', async () => {
    const c = await TestClient.connect(server.url);
    try {
      closeGate();
      const errors: (ReceivedEvent | null)[] = [];
      for (let i = 0; i < 7; i++)
        errors.push(
          await errorOf(c, { type: 'response.create', response: { conversation: 'none', input: [userText(`q${i}`)] } }),
        );
      expect(errors.slice(0, 4)).toEqual([null, null, null, null]);
      for (const e of errors.slice(4)) expect(e?.error).toMatchObject({ code: 'E_QUEUE_FULL' });
      expect(c.ofType('rate_limits.updated').length).toBeGreaterThanOrEqual(4);
      open();
      await waitFor(() => c.ofType('response.done').length >= 4);
      expect(
        await errorOf(c, { type: 'response.create', response: { conversation: 'none', input: [userText('again')] } }),
      ).toBeNull();
      await waitFor(() => c.ofType('response.done').length >= 5);
    } finally {
      open();
      await c.close();
    }
  });

  it('refuses text past max_pending_text_bytes with E_QUEUE_FULL', async () => {
    const c = await TestClient.connect(server.url);
    try {
      closeGate();
      const big = 'x'.repeat(900);
      const errors: (ReceivedEvent | null)[] = [];
      for (let i = 0; i < 3; i++)
        errors.push(
          await errorOf(c, { type: 'response.create', response: { conversation: 'none', input: [userText(big)] } }),
        );
      expect(errors.slice(0, 2)).toEqual([null, null]);
      expect(errors[2]?.error).toMatchObject({ code: 'E_QUEUE_FULL' });
      // Small requests still fit beside the text already waiting.
      expect(
        await errorOf(c, { type: 'response.create', response: { conversation: 'none', input: [userText('tiny')] } }),
      ).toBeNull();
      open();
      await waitFor(() => c.ofType('response.done').length >= 3);
    } finally {
      open();
      await c.close();
    }
  });
});
