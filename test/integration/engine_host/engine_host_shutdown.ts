// EngineHost shutdown while onnxruntime is busy in the worker. worker.terminate() during a native
// run() aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'"):
// the old close() did exactly that and aborted on the first round of this loop. close() and the crash
// hook terminateWorker() now stop the worker by message, between graph runs; if either regresses, the
// vitest process dies and the file running these tests fails.
// Registered from engine_host.test.ts (after its tests) rather than as a file of its own: its many
// model loads would otherwise run in parallel with that file's RSS measurement and skew it.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createEngineHost, defaultIntraOpThreads, type EngineHost } from '../../../src/engine/engine_host.ts';
import type { EngineSession } from '../../../src/engine/engine_session.ts';
import { EarshotError } from '../../../src/errors.ts';
import { SINGLE_THREAD, tinyModelDir } from './engine_fixture.ts';

// Two hosts per wave: 16 closes under load (the old close() aborted on the first). Each wave costs
// two model loads (about 1 s on 2 cores), hence not more.
const WAVES = 8;
const TERMINATE_FALLBACK = 'engine worker did not exit in time; terminating it';

interface Round {
  host: EngineHost;
  errors: string[];
}

async function startHost(modelDir: string): Promise<Round> {
  const errors: string[] = [];
  const host = createEngineHost({
    modelDir,
    ...SINGLE_THREAD,
    log: { info: () => undefined, warn: () => undefined, error: (_d, m) => errors.push(m) },
  });
  await host.ready;
  return { host, errors };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (error) {
    return error instanceof EarshotError ? error.code : String(error);
  }
}

/** Closes the host while a generation streams; returns the generation's outcome. */
async function closeDuringGeneration({ host }: Round): Promise<{ outcome: string; session: EngineSession }> {
  const s = await host.createSession();
  await s.appendUser([{ type: 'text', text: 'Count to a thousand.' }]);
  const events = s.generate({ maxNewTokens: 3000, stopIds: [] })[Symbol.asyncIterator]();
  expect((await events.next()).value).toMatchObject({ type: 'delta' }); // the worker is decoding
  const rest = codeOf(
    (async () => {
      for (let r = await events.next(); !r.done; r = await events.next()) if (r.value.type === 'done') return r.value;
    })(),
  );
  await host.close();
  return { outcome: await rest, session: s };
}

/** Starts a long prefill and waits until the worker has run some of its chunks. */
async function runningPrefill({ host }: Round): Promise<{ append: Promise<string>; session: EngineSession }> {
  const s = await host.createSession();
  const stepsBefore = (await host.totals()).steps;
  // Many prefill chunks, but within the context budget: a turn larger than the whole budget is refused
  // up front (E_CONTEXT_OVERFLOW) and would never reach the engine.
  const append = codeOf(s.appendUser([{ type: 'text', text: 'word '.repeat(400) }]));
  // totals() is answered between steps, so seeing the step count move means chunks are running.
  while ((await host.totals()).steps < stepsBefore + 3) await new Promise((r) => setImmediate(r));
  return { append, session: s };
}

export function describeShutdownUnderLoad(): void {
  describe('EngineHost shutdown under load (tiny model)', () => {
    it(`close() during a generation and during a prefill, ${2 * WAVES} times: the process survives, sessions get E_ENGINE, close() resolves`, async () => {
      const modelDir = await tinyModelDir();
      for (let wave = 0; wave < WAVES; wave++) {
        const [a, b] = await Promise.all([startHost(modelDir), startHost(modelDir)]);
        const crashFirst = wave % 4 === 1;
        const [gen, prefill] = await Promise.all([
          closeDuringGeneration(a),
          (async () => {
            const { append, session } = await runningPrefill(b);
            if (crashFirst) {
              // The crash hook mid-prefill: exit code 1 between chunks, then close() while the
              // replacement worker is still loading.
              await b.host.terminateWorker();
              expect(b.host.restarts).toBe(1);
              const crashed = await append;
              await b.host.close();
              return { outcome: crashed, session };
            }
            await b.host.close();
            return { outcome: await append, session };
          })(),
        ]);
        expect(gen.outcome).toBe('E_ENGINE');
        expect(prefill.outcome).toBe(crashFirst ? 'E_ENGINE_WORKER_EXITED' : 'E_ENGINE');
        // Everything after close() fails with a clear code instead of hanging.
        await expect(gen.session.appendUser([{ type: 'text', text: 'still there?' }])).rejects.toMatchObject({
          code: 'E_ENGINE',
        });
        await expect(a.host.createSession()).rejects.toMatchObject({ code: 'E_ENGINE' });
        await expect(b.host.encodeAudio(new Float32Array(16000), 16000)).rejects.toMatchObject({ code: 'E_ENGINE' });
        expect(a.host.isReady).toBe(false);
        await a.host.close(); // idempotent
        // The workers exited by themselves; terminate() (the last resort) was never needed.
        expect(a.errors).toEqual([]);
        expect(b.errors).not.toContain(TERMINATE_FALLBACK);
      }
    }, 60_000);

    it('close() while the model is still loading resolves and fails ready with E_ENGINE', async () => {
      const modelDir = await tinyModelDir();
      const host = createEngineHost({ modelDir, ...SINGLE_THREAD });
      const ready = host.ready;
      const closing = host.close();
      expect(host.close()).toBe(closing); // one shutdown, however often it is asked for
      await closing;
      await expect(ready).rejects.toMatchObject({ code: 'E_ENGINE' });
      await expect(host.createSession()).rejects.toMatchObject({ code: 'E_ENGINE' });
    });

    it('the default intra-op thread count leaves one core to the event loop', () => {
      expect(defaultIntraOpThreads()).toBe(Math.max(1, availableParallelism() - 1));
    });
  });
}
