// startServer is a stack of parts that own their release: failing any step (injected before it runs, as
// the step's own failure would surface) releases every part started before it, last first, and the
// failed start rejects with that failure. A real server on 127.0.0.1, a real (file) store and Silero VAD.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { STARTUP_STEPS, type StartupStep } from '../../../src/startup/startup_stack.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { startTestServer } from '../../helpers/test_server.ts';

/** Steps that start something to release (the others load or compute only). */
const RELEASED: ReadonlySet<StartupStep> = new Set([
  'engine',
  'services',
  'store',
  'retention',
  'engine_stats',
  'voice',
  'load_monitors',
  'openai_api',
  'webrtc',
  'listen',
]);

const dir = mkdtempSync(join(tmpdir(), 'earshot-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The store file can be opened for an exclusive write only when no connection (the server's) holds it. */
function storeIsClosed(path: string): boolean {
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

async function startFailingAt(failAt: StartupStep | null, storePath: string) {
  const released: StartupStep[] = [];
  const started: StartupStep[] = [];
  const injected = new Error(`injected failure before ${failAt}`);
  const start = startTestServer(
    { store: { path: storePath } },
    {
      engine: new ScriptedEngine(),
      startupHooks: {
        beforeStep: (step) => {
          if (step === failAt) throw injected;
          started.push(step);
        },
        released: (step) => released.push(step),
      },
    },
  );
  return { start, released, started, injected };
}

describe('startServer releases what it started when a step fails', () => {
  for (const [index, step] of STARTUP_STEPS.entries()) {
    it(`fails at "${step}": the ${index} steps before it are released, last first`, async () => {
      const storePath = join(dir, `${step}.db`);
      const { start, released, started, injected } = await startFailingAt(step, storePath);
      await expect(start).rejects.toBe(injected);
      expect(started).toEqual(STARTUP_STEPS.slice(0, index));
      expect(released).toEqual(started.filter((s) => RELEASED.has(s)).reverse());
      if (started.includes('store')) expect(storeIsClosed(storePath)).toBe(true);
    });
  }

  it('a started server releases every part once on close, listener first and engine last', async () => {
    const storePath = join(dir, 'full.db');
    const { start, released } = await startFailingAt(null, storePath);
    const server = await start;
    expect(storeIsClosed(storePath)).toBe(false);
    await Promise.all([server.close(), server.close()]);
    expect(released).toEqual(STARTUP_STEPS.filter((s) => RELEASED.has(s)).reverse());
    expect(storeIsClosed(storePath)).toBe(true);
    const refused = await fetch(`${server.httpUrl}/readyz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  });
});
