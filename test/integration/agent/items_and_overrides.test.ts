import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32ToPcm16Bytes } from '../../../src/audio/pcm.ts';
import type { RunningServer } from '../../../src/main.ts';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';
import { TestClient, type ReceivedEvent } from '../../helpers/ws_client.ts';
import { startAgentServer } from './agent_server.ts';

// Realtime API completeness with a scripted engine: conversation.item.create with input_audio,
// retrieve / delete / truncate, previous_item_id, response.create overrides, session.update refusals.

const engine = new ScriptedEngine({
  transcribe: (pcm) => `heard ${Math.round(pcm.length / 16)} ms`,
  answer: (ctx) => {
    const system = ctx.session.log.filter((e) => e.role === 'system').at(-1)!;
    const text = ctx.lastUser?.text ?? '';
    if (text === 'use the tool')
      return ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "lookup", "arguments": {"q": "x"}}]<|/tool_call|>'
        : 'done';
    if (system.text.startsWith('OVERRIDE')) return `override answer (${system.tools.map((t) => t.name).join(',')})`;
    return `You said: ${ctx.heard ?? text}`;
  },
});

let server: RunningServer;
beforeAll(async () => {
  server = await startAgentServer(engine);
});
afterAll(async () => {
  await server.close();
});

const lastSession = () => engine.sessions.at(-1) as ScriptedSession;
const userText = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
async function respond(c: TestClient, response?: Record<string, unknown>): Promise<ReceivedEvent> {
  const from = c.events.length;
  c.send({ type: 'response.create', ...(response ? { response } : {}) });
  return c.waitFor((e) => e.type === 'response.done', 10_000, from);
}
async function expectError(c: TestClient, event: Record<string, unknown>, code: string, param?: string): Promise<void> {
  const from = c.events.length;
  c.send({ ...event, event_id: 'evt_x' });
  const e = await c.waitFor((x) => x.type === 'error', 10_000, from);
  expect(e.error).toMatchObject({ code, event_id: 'evt_x', ...(param ? { param } : {}) });
}

describe('conversation items', () => {
  it('input_audio items: captioned, appended as audio, answered on response.create', async () => {
    const c = await TestClient.connect(server.url);
    const speech = placeWithGaps({ clips: [CARD_CLIPS[1]], gapsMs: [200, 200] }).samples16k;
    c.send({
      type: 'session.update',
      session: { audio: { input: { format: { type: 'audio/pcm', rate: 16000 }, turn_detection: null } } },
    });
    await c.roundTrip();
    const audio = Buffer.from(float32ToPcm16Bytes(speech)).toString('base64');
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio }] },
    });
    const done = await c
      .waitFor((e) => e.type === 'conversation.item.done', 3000)
      .catch(() => {
        throw new Error(c.events.map((e) => e.type + (e.type === 'error' ? JSON.stringify(e.error) : '')).join('\n'));
      });
    const completed = c.ofType('conversation.item.input_audio_transcription.completed')[0];
    expect(completed.transcript).toBe(`heard ${Math.round(speech.length / 16)} ms`);
    expect(done.item).toMatchObject({
      role: 'user',
      content: [{ type: 'input_audio', transcript: completed.transcript }],
    });
    const response = await respond(c);
    expect((response.response as { output: { content: { text: string }[] }[] }).output[0].content[0].text).toBe(
      `You said: ${completed.transcript}`,
    );
    const userTurn = lastSession().log.find((e) => e.role === 'user')!;
    expect(userTurn.role === 'user' && userTurn.audio.length).toBe(1);
    await expectError(
      c,
      {
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio: 'AAAA' }] },
      },
      'E_ODD_PCM_BYTES',
      'item.content[0].audio',
    );
    await expectError(
      c,
      {
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio: '!!!!' }] },
      },
      'E_INVALID_BASE64',
    );
    expect(c.ofType('error')).toHaveLength(2);
    await c.close();
  });

  it('retrieve, truncate and delete; previous_item_id may name any item (insertion in the middle)', async () => {
    const c = await TestClient.connect(server.url);
    c.send({ type: 'conversation.item.create', item: { ...userText('first'), id: 'item_first' } });
    const answer = await respond(c);
    const assistantId = (answer.response as { output: { id: string }[] }).output[0].id;
    c.send({ type: 'conversation.item.retrieve', item_id: 'item_first' });
    expect((await c.waitFor((e) => e.type === 'conversation.item.retrieved')).item).toMatchObject({
      id: 'item_first',
      content: [{ type: 'input_text', text: 'first' }],
    });
    c.send({ type: 'conversation.item.truncate', item_id: assistantId, content_index: 0, audio_end_ms: 1234.7 });
    expect(await c.waitFor((e) => e.type === 'conversation.item.truncated')).toMatchObject({
      item_id: assistantId,
      content_index: 0,
      audio_end_ms: 1234,
    });
    await expectError(
      c,
      { type: 'conversation.item.truncate', item_id: 'item_first', content_index: 0, audio_end_ms: 0 },
      'E_INVALID_EVENT',
      'item_id',
    );
    await expectError(c, { type: 'conversation.item.retrieve', item_id: 'item_nope' }, 'E_ITEM_NOT_FOUND');
    await expectError(
      c,
      { type: 'conversation.item.create', previous_item_id: 'item_nope', item: userText('lost') },
      'E_ITEM_NOT_FOUND',
      'previous_item_id',
    );
    // Inserting in the middle: the engine session is rewound to before the assistant's turn and it is re-appended.
    c.send({
      type: 'conversation.item.create',
      previous_item_id: 'item_first',
      item: { ...userText('in the middle'), id: 'item_middle' },
    });
    const middle = await c.waitFor(
      (e) => e.type === 'conversation.item.added' && (e.item as { id: string }).id === 'item_middle',
    );
    expect(middle.previous_item_id).toBe('item_first');
    expect(lastSession().transcript().slice(1)).toEqual([
      'user: first',
      'user: in the middle',
      'assistant: You said: first',
    ]);
    c.send({
      type: 'conversation.item.create',
      previous_item_id: assistantId,
      item: { ...userText('second'), id: 'item_second' },
    });
    const added = await c.waitFor(
      (e) => e.type === 'conversation.item.added' && (e.item as { id: string }).id === 'item_second',
    );
    expect(added.previous_item_id).toBe(assistantId);
    // Deleting the first exchange removes it from what the model sees (the context is rebuilt).
    c.send({ type: 'conversation.item.delete', item_id: 'item_first' });
    c.send({ type: 'conversation.item.delete', item_id: 'item_middle' });
    c.send({ type: 'conversation.item.delete', item_id: assistantId });
    await c.waitFor((e) => e.type === 'conversation.item.deleted' && e.item_id === assistantId);
    await respond(c);
    expect(lastSession().transcript().slice(1, 3)).toEqual(['user: second', 'assistant: You said: second']);
    await expectError(c, { type: 'conversation.item.delete', item_id: 'item_first' }, 'E_ITEM_NOT_FOUND');
    await c.close();
  });
});

describe('response.create overrides', () => {
  it('instructions and tools for one response: a system turn removed afterwards, the answer kept', async () => {
    const c = await TestClient.connect(server.url);
    c.send({ type: 'conversation.item.create', item: userText('hello') });
    const done = await respond(c, {
      instructions: 'OVERRIDE: answer in French.',
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
      metadata: { topic: 'x' },
    });
    const response = done.response as { metadata: unknown; output: { content: { text: string }[] }[] };
    expect(response.output[0].content[0].text).toBe('override answer (lookup)');
    expect(response.metadata).toEqual({ topic: 'x' });
    // The per-response system turn is gone; the answer stays in the conversation.
    expect(lastSession().log.map((e) => e.role)).toEqual(['system', 'user', 'assistant']);
    expect(lastSession().log.filter((e) => e.role === 'system')).toHaveLength(1);
    // The next response is back to the session's instructions.
    const next = await respond(c);
    expect((next.response as { output: { content: { text: string }[] }[] }).output[0].content[0].text).not.toMatch(
      /override/,
    );
    await c.close();
  });

  it('response tools are client tools for that response; tool_choice none disables them', async () => {
    const c = await TestClient.connect(server.url);
    c.send({ type: 'conversation.item.create', item: userText('use the tool') });
    const withTool = await respond(c, {
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
    });
    expect((withTool.response as { output: { type: string; name: string }[] }).output).toMatchObject([
      { type: 'function_call', name: 'lookup' },
    ]);
    const none = await respond(c, { tools: [{ type: 'function', name: 'lookup' }], tool_choice: 'none' });
    // With tool_choice none the call is not handed to the client: Earshot answers it as an unknown tool.
    const types = (none.response as { output: { type: string }[] }).output.map((o) => o.type);
    expect(types).toContain('function_call_output');
    await c.close();
  });

  it("conversation 'none' with input: its own context, nothing added to the conversation", async () => {
    const c = await TestClient.connect(server.url);
    c.send({ type: 'conversation.item.create', item: { ...userText('kept'), id: 'item_kept' } });
    await respond(c);
    const before = lastSession().log.length;
    const from = c.events.length;
    const done = await respond(c, {
      conversation: 'none',
      input: [{ type: 'item_reference', id: 'item_kept' }, userText('summarize')],
      max_output_tokens: 2,
    });
    expect(done.response).toMatchObject({
      conversation_id: null,
      status: 'incomplete',
      status_details: { reason: 'max_output_tokens' },
    });
    expect(c.events.slice(from).filter((e) => e.type.startsWith('conversation.item.'))).toEqual([]);
    const own = lastSession();
    expect(own.transcript().slice(1)).toEqual(['user: kept', 'user: summarize', 'assistant: You said:']);
    expect(own.disposed).toBe(true);
    expect(engine.sessions.at(-2)!.log.length).toBe(before);
    await expectError(
      c,
      { type: 'response.create', response: { input: [{ type: 'item_reference', id: 'item_gone' }] } },
      'E_ITEM_NOT_FOUND',
    );
    await expectError(
      c,
      { type: 'response.create', response: { conversation: 'conv_other' } },
      'E_UNSUPPORTED_FEATURE',
      'response.conversation',
    );
    // Audio output is accepted; the response says it is text.
    c.send({
      type: 'response.create',
      response: { output_modalities: ['audio'], audio: { output: { voice: 'marin' } } },
    });
    const textOnly = await c.waitFor(
      (e) =>
        e.type === 'response.done' &&
        e !== undefined &&
        (e.response as { output_modalities: string[] }).output_modalities !== undefined,
      10_000,
    );
    expect(textOnly.response).toMatchObject({ status: 'completed', output_modalities: ['text'] });
    await c.close();
  });
});

describe('session.update refusals', () => {
  it('names the field Earshot cannot honour and applies nothing of the update', async () => {
    const c = await TestClient.connect(server.url);
    const cases: [Record<string, unknown>, string][] = [
      [{ tools: [{ type: 'mcp', server_label: 'x' }] }, 'session.tools[0]'],
      [{ prompt: { id: 'pmpt_1' } }, 'session.prompt'],
      [{ input_audio_format: 'pcm16' }, 'session.input_audio_format'],
      [{ instructions: 'changed', voice: 'alloy' }, 'session.voice'],
    ];
    // Audio output, a voice or noise reduction never fails the update: the rest applies, the echo says what had
    // no effect. This server has a voice engine (espeak-ng), so the audio output settings take effect.
    c.send({
      type: 'session.update',
      session: {
        output_modalities: ['text', 'audio'],
        instructions: 'kept',
        max_output_tokens: 99,
        audio: {
          output: { voice: 'marin' },
          input: {
            noise_reduction: { type: 'near_field' },
            turn_detection: { type: 'semantic_vad', eagerness: 'high' },
          },
        },
      },
    });
    const withVoice = await c.waitFor((e) => e.type === 'session.updated');
    expect(withVoice.session).toMatchObject({
      instructions: 'kept',
      max_output_tokens: 99,
      output_modalities: ['audio'],
      audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'high' } }, output: { voice: 'marin' } },
    });
    expect((withVoice.session as { ignored_fields: { param: string }[] }).ignored_fields.map((f) => f.param)).toEqual([
      'session.audio.input.noise_reduction',
    ]);
    for (const [session, param] of cases)
      await expectError(c, { type: 'session.update', session }, 'E_UNSUPPORTED_FEATURE', param);
    // Accepted: what agents-realtime sends for a text-only agent (audio.output format and speed, null noise reduction).
    c.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        instructions: 'final',
        output_modalities: ['text'],
        tracing: 'auto',
        audio: {
          input: { noise_reduction: null, turn_detection: { type: 'semantic_vad' } },
          output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1 },
        },
      },
    });
    const updated = await c.waitFor(
      (e) => e.type === 'session.updated' && (e.session as { instructions: string }).instructions === 'final',
    );
    expect(updated.session).toMatchObject({ output_modalities: ['text'] });
    expect((updated.session as { ignored_fields: { param: string }[] }).ignored_fields.map((f) => f.param)).toEqual([
      'session.tracing',
    ]);
    await c.close();
  });
});
