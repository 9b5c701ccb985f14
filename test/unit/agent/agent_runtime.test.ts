import { describe, expect, it } from 'vitest';
import { ScriptedEngine, type ScriptedSession } from '../../helpers/scripted_engine.ts';
import { makeHarness, saidIn, utterance } from './runtime_harness.ts';

describe('agent runtime: one spoken turn', () => {
  it('captions the utterance as a rewound branch, then answers it with the full event sequence', async () => {
    const engine = new ScriptedEngine({ transcribe: () => 'what time is it', answer: () => 'It is noon in the test.' });
    const h = makeHarness({ engine });
    const u = utterance(1200);
    h.runtime.enqueueUtterance(u);
    await h.runtime.whenIdle();
    const types = h.types();
    expect(types.filter((t) => !t.endsWith('.delta'))).toEqual([
      'conversation.item.input_audio_transcription.completed',
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    const completed = h.ofType('conversation.item.input_audio_transcription.completed')[0];
    expect(completed).toMatchObject({ item_id: u.itemId, transcript: 'what time is it' });
    expect(
      h
        .ofType('conversation.item.input_audio_transcription.delta')
        .map((d) => d.delta)
        .join(''),
    ).toBe('what time is it');
    expect(completed.usage).toMatchObject({ type: 'tokens', input_token_details: { audio_tokens: 15 } });
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('completed');
    expect(saidIn(h.events, done.id)).toBe('It is noon in the test.');
    expect(h.ofType('response.output_text.done')[0].text).toBe('It is noon in the test.');
    const session = engine.sessions[0] as ScriptedSession;
    // System, the user's audio turn (with its transcript), the answer: the ASR branch left no trace.
    expect(session.log.map((e) => e.role)).toEqual(['system', 'user', 'assistant']);
    expect(session.transcript()[1]).toBe('user: what time is it');
    expect(session.log[2].text).toBe('It is noon in the test.');
    // Usage: output = generated tokens; input = context at generation start; audio tokens counted.
    const usage = done.usage!;
    expect(usage.output_tokens).toBe(session.generations.at(-1)!.steps);
    expect(usage.input_tokens).toBe(session.log[0].tokens + session.log[1].tokens);
    expect(usage.input_token_details.audio_tokens).toBe(15);
    expect(usage.input_token_details.cached_tokens).toBe(session.log[0].tokens);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(engine.encodes).toBe(1);
    expect(engine.released).toBe(1);
  });

  it('with manual turns (turn_detection null) appends the turn and waits for response.create', async () => {
    const engine = new ScriptedEngine({ answer: () => 'ok' });
    const h = makeHarness({ engine });
    h.state.apply({ audio: { input: { turn_detection: null } } });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.types()).not.toContain('response.created');
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response.status).toBe('completed');
  });

  it('text input: conversation.item.create + response.create', async () => {
    const engine = new ScriptedEngine({ answer: (ctx) => `echo ${ctx.lastUser?.text}` });
    const h = makeHarness({ engine });
    h.runtime.createItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello there' }] });
    h.runtime.createResponse(undefined);
    await h.runtime.whenIdle();
    expect(h.ofType('conversation.item.added')[0].item).toMatchObject({
      role: 'user',
      content: [{ type: 'input_text', text: 'hello there' }],
    });
    const done = h.ofType('response.done')[0].response;
    expect(saidIn(h.events, done.id)).toBe('echo hello there');
  });

  it('an out-of-band response (conversation none) leaves the context as it was', async () => {
    const engine = new ScriptedEngine({ answer: () => 'aside' });
    const h = makeHarness({ engine });
    h.runtime.createItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] });
    h.runtime.createResponse({ conversation: 'none' });
    await h.runtime.whenIdle();
    expect(h.ofType('response.done')[0].response).toMatchObject({ status: 'completed', conversation_id: null });
    expect(engine.sessions[0] && (engine.sessions[0] as ScriptedSession).log.map((e) => e.role)).toEqual([
      'system',
      'user',
    ]);
  });

  it('honours max_output_tokens: status incomplete, reason max_output_tokens', async () => {
    const engine = new ScriptedEngine({ answer: () => 'one two three four five six seven' });
    const h = makeHarness({ engine });
    h.runtime.createItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'count' }] });
    h.runtime.createResponse({ max_output_tokens: 3 });
    await h.runtime.whenIdle();
    const done = h.ofType('response.done')[0].response;
    expect(done.status).toBe('incomplete');
    expect(done.status_details).toMatchObject({ reason: 'max_output_tokens' });
    expect(done.usage!.output_tokens).toBe(3);
    expect(saidIn(h.events, done.id)).toBe('one two three');
  });
});

describe('agent runtime: session kinds and a missing model', () => {
  it('a transcription session yields captions and never responses', async () => {
    const engine = new ScriptedEngine({ transcribe: () => 'bonjour tout le monde' });
    const h = makeHarness({ engine, sessionType: 'transcription' });
    h.runtime.enqueueUtterance(utterance());
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.ofType('conversation.item.input_audio_transcription.completed')).toHaveLength(2);
    expect(h.types().some((t) => t.startsWith('response.'))).toBe(false);
    expect(() => h.runtime.createResponse(undefined)).toThrow(/transcription session/);
    // Captions are branches: the session holds only the system prompt.
    expect((engine.sessions[0] as ScriptedSession).log.map((e) => e.role)).toEqual(['system']);
  });

  it('translate_to turns captions into translations; language is passed to the prompt', async () => {
    const engine = new ScriptedEngine({ transcribe: () => 'good morning' });
    const h = makeHarness({ engine, sessionType: 'transcription' });
    h.state.apply({ audio: { input: { transcription: { language: 'en', translate_to: 'fr' } } } });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(h.ofType('conversation.item.input_audio_transcription.completed')[0].transcript).toBe(
      '[French] good morning',
    );
    h.state.apply({ audio: { input: { transcription: { language: 'de' } } } });
    let prompt = '';
    engine.options.caption = (ctx) => ((prompt = ctx.lastUser!.text), 'guten Morgen');
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    expect(prompt).toBe('Transcribe the German audio clip into text.');
  });

  it('without an engine, turns still flow and captions fail with E_MODEL_MISSING naming the fix', async () => {
    const h = makeHarness({ engine: null });
    h.runtime.enqueueUtterance(utterance());
    await h.runtime.whenIdle();
    const failed = h.ofType('conversation.item.input_audio_transcription.failed')[0];
    expect(failed.error.code).toBe('E_MODEL_MISSING');
    expect(failed.error.message).toContain('earshot model pull');
    expect(() => h.runtime.createResponse(undefined)).toThrow(/--model DIR/);
    expect(() =>
      h.runtime.createItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }),
    ).toThrow(/earshot model pull/);
  });
});

describe('call summary at the end of a call', () => {
  it('the call-center agent summarises the call from its transcripts when the connection ends', async () => {
    const { callCenter } = await import('../../../agents/call_center.ts');
    const { tempServices } = await import('../tools/tool_harness.ts');
    const services = tempServices();
    const engine = new ScriptedEngine({
      transcribe: (pcm) => (pcm[0] === 0 ? 'my internet is down' : 'my id is C-1003'),
      answer: (ctx) =>
        ctx.lastUser?.text.startsWith('Summarize this call') ? 'Caller C-1003 reported an outage.' : 'I see.',
    });
    const h = makeHarness({ engine, agent: callCenter });
    (h.runtime as unknown as { opts: { services: unknown } }).opts.services = services;
    h.runtime.enqueueUtterance(utterance(800, 0));
    h.runtime.enqueueUtterance(utterance(800, 0.5));
    await h.runtime.whenIdle();
    await h.runtime.dispose();
    expect(services.callCenter().getCallSummary(h.state.id)).toMatchObject({
      summary: 'Caller C-1003 reported an outage.',
      transcript: ['my internet is down', 'my id is C-1003'],
    });
    expect(engine.sessions[0].disposed).toBe(true);
  });
});
