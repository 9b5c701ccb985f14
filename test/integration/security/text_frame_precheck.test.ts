import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { startAgentServer } from '../agent/agent_server.ts';

// limits.max_text_event_bytes on a real server: a text frame over it without audio is refused from its
// length (E_TEXT_TOO_LARGE with the client's event_id) although its item text is under
// max_item_text_bytes, which shows the frame was never decoded; audio over it goes through; the
// connection keeps working. The scripted engine stands in for the model: the transport is under test.
const engine = new ScriptedEngine({ answer: () => 'ok' });
const EVENT_BYTES = 4096;
let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine, {
    limits: { max_text_event_bytes: EVENT_BYTES, max_item_text_bytes: 100_000, max_pending_text_bytes: 200_000 },
  });
});
afterAll(async () => server?.close());

const userText = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });

describe('text frames over max_text_event_bytes', () => {
  it('are refused before decoding unless they carry audio; the connection goes on', async () => {
    const c = await TestClient.connect(server.url);
    try {
      c.send({ type: 'conversation.item.create', event_id: 'evt_big', item: userText('x'.repeat(10_000)) });
      const refused = await c.waitFor((e) => e.type === 'error');
      expect(refused.error).toMatchObject({ code: 'E_TEXT_TOO_LARGE', event_id: 'evt_big' });
      expect((refused.error as { message: string }).message).toContain('limits.max_text_event_bytes');

      // 8000 bytes of base64 PCM16: over the event bound, but audio.
      const from = c.events.length;
      c.send({ type: 'input_audio_buffer.append', event_id: 'evt_audio', audio: 'AAAA'.repeat(2000) });
      c.send({ type: 'conversation.item.create', event_id: 'evt_small', item: userText('hello') });
      await c.waitFor(
        (e) => e.type === 'conversation.item.added' || e.type === 'conversation.item.created',
        10_000,
        from,
      );
      await c.roundTrip();
      expect(c.events.slice(from).filter((e) => e.type === 'error')).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
