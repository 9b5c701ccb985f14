// Batched one-token steps in the engine: many sessions captioning and answering at once produce exactly
// what each produces with batching off, the steps really ran batched, and long sessions step alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioHandle } from '../../../src/engine/engine_session.ts';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import { collect, SINGLE_THREAD, testPcm, tinyModelDir } from './engine_fixture.ts';

const engines: Phi4Engine[] = [];
let batched: Phi4Engine;
let alone: Phi4Engine;

beforeAll(async () => {
  const modelDir = await tinyModelDir();
  batched = await Phi4Engine.load({
    modelDir,
    sessionOptions: SINGLE_THREAD,
    batchMaxRows: 4,
    batchMaxContextTokens: 600,
  });
  alone = await Phi4Engine.load({ modelDir, sessionOptions: SINGLE_THREAD, batchMaxRows: 1 });
  engines.push(batched, alone);
}, 120_000);
afterAll(async () => {
  for (const e of engines) await e.close();
});

/** One caption-like turn per session: audio of a different length each, then a generation. */
async function conversation(
  engine: Phi4Engine,
  index: number,
  promptWords: number,
  systemWords = 0,
): Promise<number[][]> {
  const session = await engine.createSession();
  await session.appendSystem({ instructions: 'word '.repeat(systemWords) + `You are assistant number ${index}.` });
  const outputs: number[][] = [];
  for (let turn = 0; turn < 2; turn++) {
    const audio: AudioHandle = await engine.encodeAudio(
      testPcm(0.5 + 0.3 * index + 0.2 * turn, 16000, index + turn),
      16000,
    );
    const checkpoint = session.checkpoint();
    await session.appendUser([
      { type: 'audio', audio },
      { type: 'text', text: 'word '.repeat(promptWords) + `Transcribe turn ${turn}.` },
    ]);
    outputs.push((await collect(session.generate({ maxNewTokens: 6 + index, stopIds: [] }))).tokenIds);
    await session.rewind(checkpoint);
    engine.releaseAudio(audio);
    await session.appendUser([{ type: 'text', text: `Answer ${turn}` }]);
    outputs.push((await collect(session.generate({ maxNewTokens: 4, stopIds: [] }))).tokenIds);
  }
  await session.dispose();
  return outputs;
}

describe('batched steps across sessions (tiny model)', () => {
  it('ten concurrent sessions generate exactly what they generate with batching off', async () => {
    const lengths = Array.from({ length: 10 }, (_, i) => (i % 3) * 20);
    const before = batched.totals();
    const withBatching = await Promise.all(lengths.map((words, i) => conversation(batched, i, words)));
    const after = batched.totals();
    const withoutBatching = await Promise.all(lengths.map((words, i) => conversation(alone, i, words)));
    expect(withBatching).toEqual(withoutBatching);
    const runs = after.batchRuns - before.batchRuns;
    const rows = after.batchRows - before.batchRows;
    expect(runs).toBeGreaterThan(0);
    // Rows per run: more than one on average, never more than batchMaxRows.
    expect(rows / runs).toBeGreaterThan(1.5);
    expect(rows / runs).toBeLessThanOrEqual(4);
    expect(alone.totals().batchRuns).toBe(0);
  });

  it('sessions past batchMaxContextTokens step alone and still agree', async () => {
    const before = batched.totals();
    const long = await Promise.all([conversation(batched, 0, 0, 700), conversation(batched, 1, 0, 700)]);
    const after = batched.totals();
    expect(after.batchRows - before.batchRows).toBe(0);
    expect(long).toEqual(await Promise.all([conversation(alone, 0, 0, 700), conversation(alone, 1, 0, 700)]));
  });
});
