import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import type { RunningServer } from '../../../src/main.ts';
import type { ResponseUsage } from '../../../src/protocol/server_items.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { startAgentServer, streamPcm16k, use16kBinary } from './agent_server.ts';

// End to end with the real engine (EngineHost worker) on the generated tiny Phi-4-mm model: its text
// is meaningless, so this proves the plumbing: events, their order, and token accounting.

const MAX_OUTPUT_TOKENS = 6;
let host: EngineHost;
let server: RunningServer;

beforeAll(async () => {
  const modelDir = await ensureFixtureModel('tiny');
  host = createEngineHost({ modelDir, intraOpNumThreads: 1, interOpNumThreads: 1 });
  await host.ready;
  server = await startAgentServer(host, { agent: { caption_max_tokens: 6 } });
}, 300_000);

afterAll(async () => {
  await server?.close();
  await host?.close();
});

const at = (events: ReceivedEvent[], pred: (e: ReceivedEvent) => boolean) => events.findIndex(pred);

describe('end to end over the WebSocket with the tiny ONNX model', () => {
  it('per utterance: speech_started, speech_stopped, committed, transcription completed, then the response ending in response.done with usage', async () => {
    const c = await TestClient.connect(server.url);
    await use16kBinary(c, { max_output_tokens: MAX_OUTPUT_TOKENS, instructions: 'Answer briefly.' });
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[0], LIBRIVOX_CLIPS[2]], gapsMs: [500, 1400, 1000] }).samples16k);
    await c.waitFor((e) => e.type === 'response.done' && c.ofType('response.done').length === 2, 120_000);
    expect(c.ofType('error')).toEqual([]);
    const items = c.ofType('input_audio_buffer.committed').map((e) => e.item_id as string);
    expect(items).toHaveLength(2);
    const usages: ResponseUsage[] = [];
    for (const [turn, itemId] of items.entries()) {
      const ev = c.events;
      const response = c.ofType('response.created')[turn].response as { id: string };
      const order = [
        at(ev, (e) => e.type === 'input_audio_buffer.speech_started' && e.item_id === itemId),
        at(ev, (e) => e.type === 'input_audio_buffer.speech_stopped' && e.item_id === itemId),
        at(ev, (e) => e.type === 'input_audio_buffer.committed' && e.item_id === itemId),
        at(ev, (e) => e.type === 'conversation.item.input_audio_transcription.completed' && e.item_id === itemId),
        at(ev, (e) => e.type === 'response.created' && (e.response as { id: string }).id === response.id),
        at(ev, (e) => e.type === 'response.done' && (e.response as { id: string }).id === response.id),
      ];
      expect(order.every((i) => i >= 0)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      const firstDelta = at(ev, (e) => e.type === 'response.output_text.delta' && e.response_id === response.id);
      if (firstDelta >= 0) expect(firstDelta).toBeGreaterThan(order[3]);
      const caption = ev[order[3]] as ReceivedEvent & {
        usage: { input_tokens: number; output_tokens: number; input_token_details: { audio_tokens: number } };
      };
      expect(caption.usage.input_token_details.audio_tokens).toBeGreaterThan(0);
      expect(caption.usage.output_tokens).toBeGreaterThan(0);
      expect(caption.usage.output_tokens).toBeLessThanOrEqual(6);
      const done = ev[order[5]].response as {
        status: string;
        status_details: { reason?: string } | null;
        usage: ResponseUsage;
        output: { type: string; content?: { text: string }[] }[];
      };
      const usage = done.usage;
      usages.push(usage);
      expect(usage.output_tokens).toBeGreaterThan(0);
      expect(usage.output_tokens).toBeLessThanOrEqual(MAX_OUTPUT_TOKENS);
      if (done.status === 'incomplete') {
        expect(done.status_details?.reason).toBe('max_output_tokens');
        expect(usage.output_tokens).toBe(MAX_OUTPUT_TOKENS);
      } else expect(done.status).toBe('completed');
      expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
      // The user's audio turn is in the context the answer attended to, with the caption's audio token count.
      expect(usage.input_token_details.audio_tokens).toBeGreaterThanOrEqual(
        caption.usage.input_token_details.audio_tokens,
      );
      expect(usage.input_token_details.text_tokens).toBeGreaterThan(0);
      expect(usage.input_tokens).toBeGreaterThan(usage.input_token_details.cached_tokens);
      // Streamed text equals the final text.
      const streamed = ev
        .filter((e) => e.type === 'response.output_text.delta' && e.response_id === response.id)
        .map((e) => e.delta)
        .join('');
      const message = done.output.find((o) => o.type === 'message');
      expect(message?.content?.[0]?.text ?? '').toBe(streamed);
    }
    // Turn 2 reuses turn 1's context from the KV cache: its cached prefix holds turn 1's input and answer.
    expect(usages[1].input_token_details.cached_tokens).toBeGreaterThanOrEqual(
      usages[0].input_tokens + usages[0].output_tokens,
    );
    expect(usages[1].input_token_details.audio_tokens).toBeGreaterThan(usages[0].input_token_details.audio_tokens);
    await c.close();
  }, 180_000);

  it('a transcription session yields captions and no responses', async () => {
    const c = await TestClient.connect(`${server.url}?intent=transcription`);
    await use16kBinary(c);
    streamPcm16k(c, placeWithGaps({ clips: [CARD_CLIPS[1], CARD_CLIPS[2]], gapsMs: [500, 1200, 1000] }).samples16k);
    await c.waitFor(
      (e) =>
        e.type === 'conversation.item.input_audio_transcription.completed' &&
        c.ofType('conversation.item.input_audio_transcription.completed').length === 2,
      120_000,
    );
    await c.roundTrip();
    expect(c.ofType('input_audio_buffer.committed')).toHaveLength(2);
    expect(c.events.some((e) => e.type.startsWith('response.'))).toBe(false);
    expect(c.ofType('error')).toEqual([]);
    await c.close();
  }, 180_000);

  it('assistantPrefix (tool_choice) is written into the assistant turn through the worker: <|tool_call|> is one tag token', async () => {
    const session = await host.createSession();
    try {
      await session.appendSystem({
        instructions: 'Use tools.',
        tools: [{ name: 'lookup', description: 'weather', parameters: { type: 'object', properties: {} } }],
      });
      await session.appendUser([{ type: 'text', text: 'weather?' }]);
      const lengthFor = async (assistantPrefix?: string): Promise<{ added: number; text: string }> => {
        const cp = session.checkpoint();
        let text = '';
        for await (const e of session.generate({ maxNewTokens: 0, ...(assistantPrefix ? { assistantPrefix } : {}) }))
          if (e.type === 'done') text = e.text;
        const added = session.length - cp.length;
        await session.rewind(cp);
        return { added, text };
      };
      const plain = await lengthFor();
      const tag = await lengthFor('<|tool_call|>');
      const named = await lengthFor('<|tool_call|>[{"name": "lookup", "arguments": ');
      expect(tag.added - plain.added).toBe(1);
      expect(named.added - tag.added).toBeGreaterThan(5);
      // The prefix is not reported as generated text.
      expect([plain.text, tag.text, named.text]).toEqual(['', '', '']);
    } finally {
      await session.dispose();
    }
  }, 120_000);
});
