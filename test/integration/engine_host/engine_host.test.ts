// EngineHost with a real worker thread on the tiny fixture: streaming, cancellation by shared flag
// (counted in decode steps), worker death and restart, load errors, KV accounting over 200 sessions,
// interleaving and the pending bound across the message boundary; shutdown under load (engine_host_shutdown.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineHost, type EngineHost } from '../../../src/engine/engine_host.ts';
import type { HostSession } from '../../../src/engine/engine_host_session.ts';
import type { EngineSession } from '../../../src/engine/engine_session.ts';
import type { EarshotError } from '../../../src/errors.ts';
import { collect, SINGLE_THREAD, testPcm, tinyModelDir } from './engine_fixture.ts';
import { describeShutdownUnderLoad } from './engine_host_shutdown.ts';

let host: EngineHost;
let modelDir: string;
const errors: string[] = [];

beforeAll(async () => {
  modelDir = await tinyModelDir();
  host = createEngineHost({
    modelDir,
    ...SINGLE_THREAD,
    log: { info: () => undefined, warn: () => undefined, error: (_d, m) => errors.push(m) },
  });
  await host.ready;
}, 120_000);

afterAll(async () => {
  await host?.close();
});

async function textSession(engine: EngineHost, text: string): Promise<EngineSession> {
  const s = await engine.createSession();
  await s.appendSystem({ instructions: 'You are terse.' });
  await s.appendUser([{ type: 'text', text }]);
  return s;
}

describe('EngineHost (worker thread, tiny model)', () => {
  it('is ready, reports the model, and streams deltas from the worker', async () => {
    expect(host.isReady).toBe(true);
    expect(host.loadError).toBeUndefined();
    expect(host.info).toMatchObject({
      floatType: 'float32',
      contextBudgetTokens: 4096,
      adapter: { status: 'applied' },
    });
    const audio = await host.encodeAudio(testPcm(1, 16000), 16000);
    expect(audio.audioTokens).toBe(13);
    const s = await host.createSession();
    const ref = await s.appendUser([
      { type: 'audio', audio },
      { type: 'text', text: 'Transcribe the audio clip into text.' },
    ]);
    expect(ref.index).toBe(0);
    s.setTranscript(ref, 'hello');
    const before = s.checkpoint();
    const r = await collect(s.generate({ maxNewTokens: 7, stopIds: [] }));
    expect(r.tokenIds).toHaveLength(7); // plus possibly a final delta completing a partial UTF-8 character
    expect(r.done).toMatchObject({ finishReason: 'length', usage: { completionTokens: 7 } });
    expect(s.length).toBe(before.length + 1 + 7);
    await s.rewind(before);
    expect(s.length).toBe(before.length);
    expect(s.stats().kvBytes).toBeGreaterThan(0);
    host.releaseAudio(audio);
    await s.dispose();
    expect(s.stats().kvBytes).toBe(0);
  });

  it('cancel takes effect within one decode step of the flag being raised', async () => {
    const s = (await textSession(host, 'Count to a thousand.')) as HostSession;
    const controller = new AbortController();
    const r = await collect(s.generate({ maxNewTokens: 2000, stopIds: [] }, controller.signal), (n) => {
      if (n === 3) controller.abort();
    });
    expect(r.done.finishReason).toBe('aborted');
    const trace = s.lastGeneration!;
    expect(trace.stepsAtCancel).toBeDefined();
    // At most the step that had already started when the flag was raised.
    expect(trace.decodeSteps).toBeLessThanOrEqual(trace.stepsAtCancel! + 1);
    expect(r.done.usage.completionTokens).toBeLessThanOrEqual(trace.decodeSteps + 1);
    expect(r.done.usage.completionTokens).toBeLessThan(2000);
    // Breaking out of the iteration cancels too.
    let seen = 0;
    for await (const e of s.generate({ maxNewTokens: 2000, stopIds: [] })) {
      if (e.type === 'delta' && ++seen === 2) break;
    }
    await s.appendUser([{ type: 'text', text: 'next' }]); // queued after the cancelled generation
    expect(s.lastGeneration!.decodeSteps).toBeLessThanOrEqual(s.lastGeneration!.stepsAtCancel! + 1);
    await s.dispose();
  });

  it('two sessions generating at once both make progress', async () => {
    const [a, b] = [await textSession(host, 'Story one.'), await textSession(host, 'Story two.')];
    const order: string[] = [];
    await Promise.all([
      collect(a.generate({ maxNewTokens: 30, stopIds: [] }), () => order.push('a')),
      collect(b.generate({ maxNewTokens: 30, stopIds: [] }), () => order.push('b')),
    ]);
    expect(order).toHaveLength(60);
    expect(order.indexOf('b')).toBeLessThan(order.lastIndexOf('a'));
    expect(order.indexOf('a')).toBeLessThan(order.lastIndexOf('b'));
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('work beyond the bound gets E_ENGINE_BUSY', async () => {
    const busy = createEngineHost({ modelDir, ...SINGLE_THREAD, maxPendingRequests: 2 });
    try {
      await busy.ready;
      const s = await busy.createSession();
      const settled = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => s.appendUser([{ type: 'text', text: `burst ${i}` }])),
      );
      const codes = settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as EarshotError).code));
      expect(codes[0]).toBe('ok');
      expect(codes).toContain('E_ENGINE_BUSY');
      expect(codes.every((c) => c === 'ok' || c === 'E_ENGINE_BUSY')).toBe(true);
      await s.appendUser([{ type: 'text', text: 'after the burst' }]);
    } finally {
      await busy.close();
    }
  });

  it('200 sessions opened, used and closed leave no KV bytes and bounded memory', async () => {
    const cycle = async (i: number): Promise<void> => {
      const s = await textSession(host, `Session number ${i}, please answer.`);
      await collect(s.generate({ maxNewTokens: 4, stopIds: [] }));
      expect(s.stats().kvBytes).toBeGreaterThan(0);
      await s.dispose();
    };
    for (let i = 0; i < 20; i++) await cycle(i); // warm-up: allocator pools, JIT
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 200; i += 4) await Promise.all([0, 1, 2, 3].map((k) => cycle(i + k)));
    const totals = await host.totals();
    expect(totals.sessions).toBe(0);
    expect(totals.kvBytes).toBe(0);
    expect(totals.pendingRequests).toBe(0);
    // Stated bound: the process (main thread + worker) grows by less than 64 MB over 200 sessions (measured: about 9 MB).
    const growthBytes = process.memoryUsage().rss - rssBefore;
    expect(growthBytes).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);

  it('a killed worker fails its sessions with E_ENGINE_WORKER_EXITED and the next session works', async () => {
    const s = await textSession(host, 'Keep talking.');
    const idle = await textSession(host, 'I wait.');
    let failure: unknown;
    try {
      await collect(s.generate({ maxNewTokens: 3000, stopIds: [] }), (n) => {
        if (n === 2) void host.terminateWorker();
      });
    } catch (error) {
      failure = error;
    }
    expect((failure as EarshotError).code).toBe('E_ENGINE_WORKER_EXITED');
    await expect(idle.appendUser([{ type: 'text', text: 'hello?' }])).rejects.toMatchObject({
      code: 'E_ENGINE_WORKER_EXITED',
    });
    await expect(collect(idle.generate({ maxNewTokens: 2 }))).rejects.toMatchObject({ code: 'E_ENGINE_WORKER_EXITED' });
    expect(idle.stats().kvBytes).toBe(0);
    await idle.dispose();
    expect(host.restarts).toBe(1);
    await host.ready;
    expect(host.isReady).toBe(true);
    const fresh = await textSession(host, 'New connection.');
    const r = await collect(fresh.generate({ maxNewTokens: 3, stopIds: [] }));
    expect(r.done.usage.completionTokens).toBe(3);
    await fresh.dispose();
    expect(errors).toContain('engine worker exited; starting a new one');
  });

  it('a missing model surfaces E_MODEL_MISSING through ready, loadError and every request', async () => {
    const missing = createEngineHost({ modelDir: '/nonexistent/earshot-model' });
    await expect(missing.ready).rejects.toMatchObject({ code: 'E_MODEL_MISSING' });
    expect(missing.loadError?.code).toBe('E_MODEL_MISSING');
    expect(missing.isReady).toBe(false);
    await expect(missing.createSession()).rejects.toMatchObject({ code: 'E_MODEL_MISSING' });
    expect(missing.restarts).toBe(0);
    await missing.close();
  });
});

// Shutdown while the worker runs graphs; last, so its model loads never overlap the RSS measurement.
describeShutdownUnderLoad();
