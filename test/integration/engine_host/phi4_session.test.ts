// The Phi-4 engine in process on the tiny fixture: incremental prefill equals one-shot, rewind equals
// never appended, chunk size does not change generation, compaction, scheduling and the pending bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioHandle, ToolSpec } from '../../../src/engine/engine_session.ts';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import type { Phi4Session } from '../../../src/engine/phi4_session.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { TOKEN_ID } from '../../../src/engine/phi4mm/tokenizer_ids.ts';
import type { EarshotError } from '../../../src/errors.ts';
import { collect, maxAbsDiff, SINGLE_THREAD, testPcm, tinyModelDir } from './engine_fixture.ts';

let engine: Phi4Engine;
let audioA: AudioHandle;
let audioB: AudioHandle;
const infos: { data: object; message: string }[] = [];

const TOOLS: ToolSpec[] = [
  {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } } },
  },
];

beforeAll(async () => {
  engine = await Phi4Engine.load({
    modelDir: await tinyModelDir(),
    sessionOptions: SINGLE_THREAD,
    prefillChunkTokens: 16,
    log: { info: (data, message) => infos.push({ data, message }), warn: () => undefined, error: () => undefined },
  });
  audioA = await engine.encodeAudio(testPcm(2, 16000, 1), 16000);
  audioB = await engine.encodeAudio(testPcm(1.5, 8000, 2), 8000);
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

/** A conversation built turn by turn: system + tools, audio user turn, generation, tool response, text. */
async function buildConversation(session: Phi4Session): Promise<void> {
  await session.appendSystem({ instructions: 'You are a travel assistant.', tools: TOOLS });
  await session.appendUser([
    { type: 'audio', audio: audioA },
    { type: 'text', text: 'Where should I go?' },
  ]);
  await collect(session.generate({ maxNewTokens: 5, stopIds: [] }));
  await session.appendToolResponse('{"city": "Paris", "weather": "sunny"}');
  await session.appendAssistant('Paris is sunny.');
  await session.appendUser([
    { type: 'text', text: 'And tomorrow?' },
    { type: 'audio', audio: audioB },
  ]);
}

function oneShotLogits(session: Phi4Session): Promise<Float32Array | undefined> {
  const gen = new GenerationSession(engine.model, engine.tokenizer, { prefillChunkTokens: 4096 });
  return gen.append(session.tokenIds(), session.audioClips()).finally(() => gen.dispose());
}

describe('Phi4Session (in process, tiny model)', () => {
  it('encodes 16 kHz and 8 kHz audio to the expected token counts', () => {
    expect(audioA.audioTokens).toBe(Math.ceil((Math.floor((32000 - 400) / 160) + 1) / 8));
    expect(audioB.audioTokens).toBe(Math.ceil((Math.floor((12000 - 200) / 80) + 1) / 8));
    expect(audioB.durationMs).toBe(1500);
  });

  it('a conversation built turn by turn has the logits of the same tokens prefilled at once', async () => {
    const session = await engine.createSession({ keepTurnLogits: true });
    await buildConversation(session);
    const ids = session.tokenIds();
    expect(ids.filter((id) => id === TOKEN_ID.audio)).toHaveLength(audioA.audioTokens + audioB.audioTokens);
    expect(ids.filter((id) => id === TOKEN_ID.tool)).toHaveLength(1);
    expect(session.length).toBe(ids.length);
    const whole = await oneShotLogits(session);
    expect(maxAbsDiff(session.lastLogits!, whole!)).toBeLessThan(1e-4);
    expect(session.stats()).toMatchObject({ tokens: ids.length, rebuilds: 0, contextBudgetTokens: 4096 });
    expect(session.stats().kvBytes).toBeGreaterThan(0);
    await session.dispose();
  });

  it('appended turns compute no logits unless asked; generation is the same either way', async () => {
    const lean = await engine.createSession();
    const keeping = await engine.createSession({ keepTurnLogits: true });
    for (const s of [lean, keeping]) await buildConversation(s);
    expect(lean.lastLogits).toBeUndefined();
    expect(keeping.lastLogits).toBeDefined();
    const [a, b] = [
      await collect(lean.generate({ maxNewTokens: 10, stopIds: [] })),
      await collect(keeping.generate({ maxNewTokens: 10, stopIds: [] })),
    ];
    expect(a.tokenIds).toEqual(b.tokenIds);
    // Once a token is picked nothing holds the logits (a batched run's buffer is shared by its rows).
    expect(lean.lastLogits).toBeUndefined();
    await Promise.all([lean.dispose(), keeping.dispose()]);
  });

  it('rewind then append equals never appended', async () => {
    const branched = await engine.createSession({ keepTurnLogits: true });
    const straight = await engine.createSession({ keepTurnLogits: true });
    for (const s of [branched, straight]) await s.appendSystem({ instructions: 'Caption the audio.' });
    await branched.appendUser([{ type: 'text', text: 'Hello there.' }]);
    await straight.appendUser([{ type: 'text', text: 'Hello there.' }]);
    const cp = branched.checkpoint();
    // A side pass: ASR branch with audio and a generated transcript, then rewound.
    await branched.appendUser([
      { type: 'audio', audio: audioA },
      { type: 'text', text: 'Transcribe the audio clip into text.' },
    ]);
    const asr = await collect(branched.generate({ maxNewTokens: 6, stopIds: [] }));
    expect(asr.tokenIds).toHaveLength(6);
    await branched.rewind(cp);
    expect(branched.length).toBe(straight.length);
    expect(branched.tokenIds()).toEqual(straight.tokenIds());
    for (const s of [branched, straight]) await s.appendUser([{ type: 'audio', audio: audioB }]);
    expect(maxAbsDiff(branched.lastLogits!, straight.lastLogits!)).toBeLessThan(1e-4);
    const [a, b] = [
      await collect(branched.generate({ maxNewTokens: 8, stopIds: [] })),
      await collect(straight.generate({ maxNewTokens: 8, stopIds: [] })),
    ];
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(branched.stats()).toEqual(straight.stats());
    // Rewinding a generation that stopped mid-turn removes the <|end|> a later append added.
    const cp2 = branched.checkpoint();
    await branched.appendUser([{ type: 'text', text: 'More.' }]);
    await branched.rewind(cp2);
    expect(branched.tokenIds()).toEqual(straight.tokenIds());
    await Promise.all([branched.dispose(), straight.dispose()]);
  });

  it('generation is identical for different prefill chunk sizes', async () => {
    const results: number[][] = [];
    const logits: Float32Array[] = [];
    for (const chunk of [5, 16, 1000]) {
      const session = await engine.createSession({ prefillChunkTokens: chunk, keepTurnLogits: true });
      await buildConversation(session);
      logits.push(session.lastLogits!);
      results.push((await collect(session.generate({ maxNewTokens: 12, stopIds: [] }))).tokenIds);
      await session.dispose();
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(maxAbsDiff(logits[0], logits[2])).toBeLessThan(1e-4);
  });

  it('compaction replaces old audio by transcripts, keeps the session under budget and usable', async () => {
    const budget = 300;
    const session = await engine.createSession({
      contextBudgetTokens: budget,
      generationReserveTokens: 8,
      keepTurnLogits: true,
    });
    await session.appendSystem({ instructions: 'Summarise the call.' });
    let maxTokens = 0;
    for (let turn = 0; turn < 14; turn++) {
      const ref = await session.appendUser([{ type: 'audio', audio: turn % 2 === 0 ? audioA : audioB }]);
      session.setTranscript(ref, `caller said thing number ${turn}`);
      maxTokens = Math.max(maxTokens, session.length);
      const answer = await collect(session.generate({ maxNewTokens: 6, stopIds: [] }));
      expect(answer.tokenIds.length).toBeGreaterThan(0);
      maxTokens = Math.max(maxTokens, session.length);
    }
    const stats = session.stats();
    expect(stats.rebuilds).toBeGreaterThan(0);
    expect(maxTokens).toBeLessThanOrEqual(budget);
    expect(stats.tokens).toBeLessThanOrEqual(budget);
    const text = engine.tokenizer.decode(session.tokenIds());
    expect(text).toContain('Summarise the call.');
    expect(text).toMatch(/caller said thing number \d/);
    expect(text).not.toContain('caller said thing number 0'); // the oldest exchanges were dropped
    // The most recent turns keep their audio.
    expect(session.tokenIds().filter((id) => id === TOKEN_ID.audio).length).toBeGreaterThanOrEqual(audioA.audioTokens);
    expect(infos.some((i) => i.message === 'engine session context rebuilt')).toBe(true);
    // After a rebuild the KV cache still equals a one-shot prefill of the rebuilt conversation.
    await session.appendUser([{ type: 'text', text: 'Anything else?' }]);
    expect(maxAbsDiff(session.lastLogits!, (await oneShotLogits(session))!)).toBeLessThan(1e-4);
    await session.dispose();
  });

  it('two sessions generating at once interleave step by step', async () => {
    const [a, b] = [await engine.createSession(), await engine.createSession()];
    for (const s of [a, b]) await s.appendUser([{ type: 'text', text: 'Tell me a long story.' }]);
    const order: string[] = [];
    await Promise.all([
      collect(a.generate({ maxNewTokens: 20, stopIds: [] }), () => order.push('a')),
      collect(b.generate({ maxNewTokens: 20, stopIds: [] }), () => order.push('b')),
    ]);
    expect(order.filter((x) => x === 'a')).toHaveLength(20);
    // Both make progress before either finishes: b's first delta comes before a's last, and vice versa.
    expect(order.indexOf('b')).toBeLessThan(order.lastIndexOf('a'));
    expect(order.indexOf('a')).toBeLessThan(order.lastIndexOf('b'));
    expect(order.slice(0, 10).filter((x) => x === 'b').length).toBeGreaterThanOrEqual(4);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('an aborted generation stops before the next decode step', async () => {
    const session = await engine.createSession();
    await session.appendUser([{ type: 'text', text: 'Count to a thousand.' }]);
    const controller = new AbortController();
    const result = await collect(session.generate({ maxNewTokens: 500, stopIds: [] }, controller.signal), (n) => {
      if (n === 3) controller.abort();
    });
    expect(result.done.finishReason).toBe('aborted');
    expect(result.tokenIds).toHaveLength(3);
    // The session stays usable: the open turn is closed by the next append.
    await session.appendUser([{ type: 'text', text: 'Stop.' }]);
    const ids = session.tokenIds();
    expect(ids[ids.lastIndexOf(TOKEN_ID.user) - 1]).toBe(TOKEN_ID.end);
    expect(ids.at(-1)).toBe(TOKEN_ID.end);
    await session.dispose();
  });

  it('beyond the pending bound requests fail at once with E_ENGINE_BUSY', async () => {
    const small = await Phi4Engine.load({
      modelDir: await tinyModelDir(),
      sessionOptions: SINGLE_THREAD,
      maxPendingRequests: 2,
    });
    try {
      const session = await small.createSession();
      const attempts = Array.from({ length: 5 }, (_, i) => session.appendUser([{ type: 'text', text: `turn ${i}` }]));
      const settled = await Promise.allSettled(attempts);
      expect(settled.slice(0, 2).every((r) => r.status === 'fulfilled')).toBe(true);
      for (const r of settled.slice(2)) {
        expect(r.status).toBe('rejected');
        expect(((r as PromiseRejectedResult).reason as EarshotError).code).toBe('E_ENGINE_BUSY');
      }
      expect(small.totals().pendingRequests).toBe(0);
      await session.appendUser([{ type: 'text', text: 'after the burst' }]);
    } finally {
      await small.close();
    }
  });
});
