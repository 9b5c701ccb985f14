// Long-session health of the Phi-4 engine (in process, tiny fixture): ids only the chat template may write
// are never generated even by a model that prefers them, and a job that fails anywhere (a prefill, a
// decode step, a rebuild's re-prefill, the first step after a rebuild) leaves the session exactly as it
// was, so the following turns run as if the failure never happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioHandle } from '../../../src/engine/engine_session.ts';
import type { FaultSpec } from '../../../src/engine/fault_injection.ts';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import type { Phi4Session } from '../../../src/engine/phi4_session.ts';
import { GenerationSession } from '../../../src/engine/phi4mm/generate.ts';
import { argmax } from '../../../src/engine/phi4mm/sampling.ts';
import { isGeneratable } from '../../../src/engine/phi4mm/token_mask.ts';
import { TOKEN_ID } from '../../../src/engine/phi4mm/tokenizer_ids.ts';
import { favouringFixtureModel } from '../../helpers/biased_fixture.ts';
import { collect, SINGLE_THREAD, testPcm, tinyModelDir } from './engine_fixture.ts';

let engine: Phi4Engine;
let audio: AudioHandle;
const warnings: string[] = [];

beforeAll(async () => {
  engine = await Phi4Engine.load({
    modelDir: await tinyModelDir(),
    sessionOptions: SINGLE_THREAD,
    prefillChunkTokens: 16,
    log: { info: () => undefined, warn: (_d, message) => warnings.push(message), error: () => undefined },
  });
  audio = await engine.encodeAudio(testPcm(2, 16000, 1), 16000);
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

/** A few turns: audio with a transcript, then an answer; returns every generated id. */
async function turns(session: Phi4Session, count: number, from = 0): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = from; i < from + count; i++) {
    const ref = await session.appendUser([
      { type: 'audio', audio },
      { type: 'text', text: `turn ${i}` },
    ]);
    session.setTranscript(ref, `the caller said thing ${i}`);
    out.push((await collect(session.generate({ maxNewTokens: 6, stopIds: [] }))).tokenIds);
  }
  return out;
}

const LONG_TURN_TOKENS = 90;

/** One user turn longer than the room left in a filled 240-token context: it rebuilds. */
function rebuildingTurn(session: Phi4Session): Promise<unknown> {
  return session.appendUser([
    { type: 'audio', audio },
    { type: 'text', text: 'a long question '.repeat(6) },
  ]);
}

async function withFault(session: Phi4Session, fault: FaultSpec, op: () => Promise<unknown>): Promise<void> {
  const before = { ids: session.tokenIds(), cp: session.checkpoint(), stats: session.stats() };
  const fired = engine.faults.fired;
  engine.faults.arm(fault);
  await expect(op()).rejects.toMatchObject({ code: 'E_ENGINE' });
  expect(engine.faults.fired).toBe(fired + 1);
  // Rolled back: the same conversation, length and checkpoint as before the failed job.
  expect(session.tokenIds()).toEqual(before.ids);
  expect(session.checkpoint()).toEqual(before.cp);
  expect(session.length).toBe(before.ids.length);
  expect(session.stats().audioTokens).toBe(before.stats.audioTokens);
}

describe('a failed engine job is rolled back', () => {
  const cases: { name: string; fault: FaultSpec; budget: number; op: (s: Phi4Session) => Promise<unknown> }[] = [
    {
      name: 'an embedding run of a user turn',
      fault: { graph: 'embedding' },
      budget: 4096,
      op: (s) => s.appendUser([{ type: 'audio', audio }]),
    },
    {
      name: 'a decode step',
      fault: { graph: 'text', skipRuns: 3 },
      budget: 4096,
      op: (s) => collect(s.generate({ maxNewTokens: 8, stopIds: [] })),
    },
    {
      name: 'the re-prefill of a context rebuild',
      fault: { graph: 'text', when: 'rebuild' },
      budget: 240,
      op: rebuildingTurn,
    },
    {
      name: 'the first step after a rebuild',
      fault: { graph: 'embedding', when: 'afterRebuild' },
      budget: 240,
      op: rebuildingTurn,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the session is as before, and the next turns equal those of a session that never failed`, async () => {
      const options = { contextBudgetTokens: c.budget, generationReserveTokens: 8 };
      const [faulty, control] = [await engine.createSession(options), await engine.createSession(options)];
      for (const s of [faulty, control]) {
        await s.appendSystem({ instructions: 'Transcribe and answer.' });
        await turns(s, 2);
        // Rebuild cases: fill the context so that the next long turn must rebuild it.
        while (c.budget < 4096 && s.length + LONG_TURN_TOKENS <= c.budget) await turns(s, 1, 5);
      }
      const rebuildsBefore = faulty.stats().rebuilds;
      await withFault(faulty, c.fault, () => c.op(faulty));
      if (c.budget < 4096) {
        // The failed job had really started a rebuild; the same job on the control session rebuilds too.
        expect(faulty.stats().rebuilds).toBe(rebuildsBefore + 1);
        await rebuildingTurn(control);
        await rebuildingTurn(faulty);
      }
      const [next, expected] = [await turns(faulty, 3, 20), await turns(control, 3, 20)];
      expect(next).toEqual(expected);
      expect(faulty.tokenIds()).toEqual(control.tokenIds());
      expect(faulty.stats().rebuilds).toBeGreaterThanOrEqual(control.stats().rebuilds);
      await Promise.all([faulty.dispose(), control.dispose()]);
    });
  }
  it('logs the rollback', () => {
    expect(warnings).toContain('engine session job failed; rolled back');
  });
});

describe('ids only the template writes are never generated', () => {
  for (const [name, favoured] of [
    ['the image placeholder', TOKEN_ID.image],
    ['<|user|>', TOKEN_ID.user],
  ] as const) {
    it(`a model favouring ${name} answers with the next best ids, greedy, sampled and batched`, async () => {
      const biased = await Phi4Engine.load({
        modelDir: await favouringFixtureModel([favoured]),
        sessionOptions: SINGLE_THREAD,
      });
      try {
        // The fixture really prefers the id: unmasked, it wins every position.
        const raw = new GenerationSession(biased.model, biased.tokenizer);
        const logits = await raw.append(biased.tokenizer.encode('<|user|>hello<|end|><|assistant|>'));
        expect(argmax(logits!, biased.tokenizer.maxRealTokenId)).toBe(favoured);
        raw.dispose();

        const sessions = [await biased.createSession(), await biased.createSession()];
        for (const s of sessions) await s.appendUser([{ type: 'text', text: 'hello' }]);
        // Greedy in two sessions at once (their steps are batched), then sampled; then the session goes on.
        const greedy = await Promise.all(sessions.map((s) => collect(s.generate({ maxNewTokens: 12, stopIds: [] }))));
        const sampled = await collect(
          sessions[0].generate({ maxNewTokens: 12, stopIds: [], sampling: { temperature: 1, topK: 50, seed: 7 } }),
        );
        for (const r of [...greedy, sampled]) {
          expect(r.tokenIds).toHaveLength(12);
          for (const id of r.tokenIds) expect(isGeneratable(biased.tokenizer, id)).toBe(true);
        }
        await sessions[0].appendUser([{ type: 'text', text: 'and then?' }]);
        const after = await collect(sessions[0].generate({ maxNewTokens: 4, stopIds: [] }));
        expect(after.tokenIds).toHaveLength(4);
        expect(sessions[0].tokenIds().filter((id) => id === TOKEN_ID.image)).toEqual([]);
        await Promise.all(sessions.map((s) => s.dispose()));
      } finally {
        await biased.close();
      }
    });
  }
});
