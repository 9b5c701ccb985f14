import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheModelDir } from '../../../src/engine/phi4mm/model_location.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { CPU_VARIANT_FOLDER, MODEL_REPO_ID } from '../../../src/engine/phi4mm/pull/variants.ts';
import { spawnServer, type ServerProcess } from '../server/server_process.ts';
import { isGraphCacheEntry, startFakeHub, type FakeHub, type FakeHubFile } from './fake_hub.ts';
import { VISION_FILES } from './hub_layouts.ts';
import { waitFor } from '../../helpers/wait_for.ts';

// `earshot serve` (what `npm start` runs) as a process, on a machine whose model cache is empty: the model
// comes from the hub named by HF_ENDPOINT (a local fake) into the default cache, unless --no-pull.

let files: Record<string, FakeHubFile>;
/** What the pull fetches from `files`: the engine's files (vision stays on the hub without --with-vision). */
let pulled: string[];
let hub: FakeHub | undefined;
let proc: ServerProcess | undefined;
let home: string;

beforeAll(async () => {
  const fixture = await ensureFixtureModel('tiny');
  files = {};
  pulled = [];
  // The hub holds the export as published: not the marker, nor the rewritten-graph cache entries that other
  // tests' engines write beside the shared fixture when they load it.
  for (const name of await readdir(fixture)) {
    if (name.startsWith('.') || isGraphCacheEntry(name)) continue;
    files[`${CPU_VARIANT_FOLDER}/${name}`] = { content: await readFile(join(fixture, name)), lfs: true };
    if (!VISION_FILES.includes(name)) pulled.push(name);
  }
}, 300_000);

afterEach(async () => {
  proc?.child.kill('SIGKILL');
  await proc?.exited;
  await hub?.close();
  proc = undefined;
  hub = undefined;
  if (home) await rm(home, { recursive: true, force: true });
});

async function readyzUntil(p: ServerProcess, status: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  return waitFor(
    async () => {
      body = (await (await fetch(`${p.httpUrl}/readyz`)).json()) as Record<string, unknown>;
      return body.status === status ? body : null;
    },
    {
      timeoutMs,
      intervalMs: 100,
      what: () => `readyz ${status}; it stayed ${JSON.stringify(body)}; stderr:\n${p.stderr()}`,
    },
  );
}

describe('earshot serve on a machine without the model', () => {
  it('downloads it into the cache with progress on stderr, then becomes ready', async () => {
    home = await mkdtemp(join(tmpdir(), 'earshot-serve-pull-'));
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    proc = await spawnServer([], {
      dataDir: home,
      env: { HF_ENDPOINT: hub.endpoint, XDG_CACHE_HOME: home, EARSHOT_MODEL_AUTO_PULL: 'true' },
    });
    expect(await readyzUntil(proc, 'ready', 180_000)).toEqual({ status: 'ready', voice_engine: 'espeak' });
    const dir = cacheModelDir('cpu', { XDG_CACHE_HOME: home });
    // The pulled files, and the engine's own cache entry for the rewritten text graph written at load.
    const present = await readdir(dir);
    expect(present.filter((n) => !isGraphCacheEntry(n)).sort()).toEqual([...pulled].sort());
    expect(present.filter(isGraphCacheEntry).length).toBeGreaterThan(0);
    expect(proc.stderr()).toContain(`Pulling ${pulled.length} files of ${CPU_VARIANT_FOLDER}`);
  }, 300_000);

  it('--no-pull leaves the hub alone', async () => {
    home = await mkdtemp(join(tmpdir(), 'earshot-serve-pull-'));
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    proc = await spawnServer(['--no-pull'], {
      dataDir: home,
      env: { HF_ENDPOINT: hub.endpoint, XDG_CACHE_HOME: home, EARSHOT_MODEL_AUTO_PULL: 'true' },
    });
    expect(await readyzUntil(proc, 'model_missing', 30_000)).toEqual({
      status: 'model_missing',
      voice_engine: 'espeak',
    });
    expect(hub.requests).toEqual([]);
  }, 120_000);
});
