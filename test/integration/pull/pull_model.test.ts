import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEarshotError, type EarshotError } from '../../../src/errors.ts';
import { pullModel, type PullModelOptions } from '../../../src/engine/phi4mm/pull/pull.ts';
import type { PullProgressEvent } from '../../../src/engine/phi4mm/pull/progress.ts';
import { GPU_VARIANT_FOLDER, MODEL_REPO_ID } from '../../../src/engine/phi4mm/pull/variants.ts';
import { closedPort, startFakeHub, startSilentServer, type FakeHub, type FakeHubFile } from './fake_hub.ts';
import { ENGINE_FILES, VISION_FILES, variantFiles } from './hub_layouts.ts';

const GPU = GPU_VARIANT_FOLDER;
const CPU = 'cpu/cpu-int4-rtn-block-32-acc-level-4'; // the older guess: still found
// Fast, bounded test timings (production: 10 s connect, 30 s stall, 1-16 s backoff).
const FAST = {
  connectTimeoutMs: 2_000,
  stallTimeoutMs: 300,
  retry: { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 5 },
};

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const bytesOf = (files: Record<string, FakeHubFile>, folder: string, names: string[]) =>
  names.reduce((sum, name) => sum + files[`${folder}/${name}`].content.length, 0);

async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

async function expectPullError(promise: Promise<unknown>): Promise<EarshotError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEarshotError(err), `expected an EarshotError, got ${String(err)}`).toBe(true);
  return err as EarshotError;
}

describe('pullModel against a local fake hub', () => {
  let dir: string;
  let hub: FakeHub | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-pull-'));
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const pull = (extra: Partial<PullModelOptions> = {}) =>
    pullModel({ variant: 'gpu', dir, endpoint: hub?.endpoint, env: {}, ...FAST, ...extra });

  it('downloads only the files the engine uses, verified and in place, after stating the total', async () => {
    const files: Record<string, FakeHubFile> = {
      ...variantFiles(GPU),
      'gpu/other-variant/genai_config.json': { content: Buffer.from('{}') },
    };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files, pageSize: 3, redirectToCdn: true });
    const events: PullProgressEvent[] = [];
    const result = await pull({ token: 'hf_secret', onProgress: (e) => events.push(e) });

    expect(result.folder).toBe(GPU);
    expect(await listFilesRecursive(dir)).toEqual(ENGINE_FILES);
    for (const name of ENGINE_FILES)
      expect((await readFile(join(dir, name))).equals(files[`${GPU}/${name}`].content)).toBe(true);
    expect(result.leftOut.sort()).toEqual(
      [...VISION_FILES, 'extra/nested/readme.txt', 'special_tokens_map.json'].sort(),
    );
    const big = result.files.find((f) => f.path === 'phi-4-mm-text.onnx.data');
    expect(big).toMatchObject({
      bytes: 300_000,
      skipped: false,
      sha256: sha256(files[`${GPU}/phi-4-mm-text.onnx.data`].content),
    });
    // genai_config.json is moved into place last: a directory holding it is complete.
    expect(result.files.at(-1)?.path).toBe('genai_config.json');
    // The token goes to the hub; the listing was paginated (3 entries per page); nothing else was fetched.
    expect(hub.requests.filter((r) => r.url.includes('/api/models/')).length).toBeGreaterThan(1);
    expect(hub.requests.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    expect(hub.requests.some((r) => /README|builder|other-variant|vision|readme|special_tokens/.test(r.url))).toBe(
      false,
    );
    // Progress: the plan, first, states the total; bytes end at it; then done.
    const total = bytesOf(files, GPU, ENGINE_FILES);
    expect(events[0]).toMatchObject({
      type: 'plan',
      allBytes: total,
      totalBytes: total,
      fileCount: ENGINE_FILES.length,
      skippedCount: 0,
      leftOutCount: 6,
    });
    expect(events.at(-1)).toEqual({ type: 'done', doneBytes: total });
  });

  it('adds the vision graph, its adapter and processor config with withVision', async () => {
    const files = variantFiles(GPU);
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    const result = await pull({ withVision: true });
    expect(await listFilesRecursive(dir)).toEqual([...ENGINE_FILES, ...VISION_FILES].sort());
    expect(result.leftOut.sort()).toEqual(['extra/nested/readme.txt', 'special_tokens_map.json']);
  });

  it('finds the CPU export in cpu_and_mobile/ or cpu/, preferring accuracy level 4', async () => {
    const level4 = 'cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4';
    hub = await startFakeHub({
      repo: MODEL_REPO_ID,
      files: {
        ...variantFiles(level4),
        ...variantFiles('cpu_and_mobile/cpu-int4-rtn-block-32'),
        ...variantFiles(GPU),
      },
    });
    expect((await pull({ variant: 'cpu' })).folder).toBe(level4);
    await hub.close();

    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: { ...variantFiles(CPU), ...variantFiles(GPU) } });
    const result = await pull({ variant: 'cpu', dir: join(dir, 'cpu') });
    expect(result.folder).toBe(CPU);
    expect(await listFilesRecursive(join(dir, 'cpu'))).toEqual(ENGINE_FILES);
  });

  it('refuses a layout where no folder matches, naming the folders found, and downloads nothing', async () => {
    hub = await startFakeHub({
      repo: MODEL_REPO_ID,
      files: { ...variantFiles('cpu/cpu-fp32'), ...variantFiles('dml/dml-int4') },
    });
    const err = await expectPullError(pull({ variant: 'cpu' }));
    expect(err.code).toBe('E_MODEL_PULL');
    expect(err.message).toContain('Cannot find the cpu export');
    expect(err.message).toContain('cpu/cpu-fp32, dml/dml-int4');
    const gpuErr = await expectPullError(pull({ variant: 'gpu' }));
    expect(gpuErr.message).toContain('no folder named gpu-int4-rtn-block-32');
    expect(gpuErr.message).toContain('cpu/cpu-fp32, dml/dml-int4');
    expect(await readdir(dir)).toEqual([]);
    expect(hub.requests.some((r) => r.url.includes('/resolve/'))).toBe(false);
  });

  it('refuses a folder that lacks a file its genai_config.json names', async () => {
    const files = variantFiles(GPU);
    delete files[`${GPU}/phi-4-mm-speech.onnx_adapter`];
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    const err = await expectPullError(pull());
    expect(err.message).toContain(`The hub folder ${GPU} lacks files the engine needs: phi-4-mm-speech.onnx_adapter`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('resumes with a Range request after the server cuts the transfer mid-body', async () => {
    const files = variantFiles(GPU);
    const path = `${GPU}/phi-4-mm-text.onnx.data`;
    files[path] = { ...files[path], cutAfterBytes: 100_000, cutTimes: 2 };
    // Through the CDN redirect, as the real hub serves LFS files: the Range must survive the 302.
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files, redirectToCdn: true });
    const retries: PullProgressEvent[] = [];
    const result = await pull({
      onProgress: (e) => {
        if (e.type === 'retry') retries.push(e);
      },
    });

    expect((await readFile(join(dir, 'phi-4-mm-text.onnx.data'))).equals(files[path].content)).toBe(true);
    expect(result.files.find((f) => f.path === 'phi-4-mm-text.onnx.data')?.sha256).toBe(sha256(files[path].content));
    const ranges = hub
      .downloadsOf(path)
      .filter((r) => r.url.startsWith('/cdn/'))
      .map((r) => r.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    // Each retry asks for the rest only, from where the previous attempt stopped.
    const starts = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[1]).toBeGreaterThan(starts[0]);
    expect(retries).toHaveLength(2);
  });

  it('resumes a .part left by an earlier run, and restarts from 0 when the server ignores the Range', async () => {
    const files = variantFiles(GPU);
    const resumed = `${GPU}/phi-4-mm-text.onnx.data`;
    const ignored = `${GPU}/phi-4-mm-text.onnx`;
    files[ignored] = { ...files[ignored], ignoreRange: true };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    await writeFile(join(dir, 'phi-4-mm-text.onnx.data.part'), files[resumed].content.subarray(0, 123_456));
    // A stale prefix that a Range-ignoring server must overwrite, not be appended to.
    await writeFile(join(dir, 'phi-4-mm-text.onnx.part'), Buffer.alloc(1000, 7));
    // Without a hub sha256 an old .part cannot be trusted as a prefix: downloaded again from zero.
    await writeFile(join(dir, 'tokenizer.json.part'), Buffer.from('{"ver'));

    await pull();
    expect(hub.downloadsOf(resumed).map((r) => r.range)).toEqual(['bytes=123456-']);
    expect(hub.downloadsOf(ignored).map((r) => r.range)).toEqual(['bytes=1000-']);
    expect(hub.downloadsOf(`${GPU}/tokenizer.json`).map((r) => r.range)).toEqual([undefined]);
    expect((await readFile(join(dir, 'tokenizer.json'))).equals(files[`${GPU}/tokenizer.json`].content)).toBe(true);
    expect((await readFile(join(dir, 'phi-4-mm-text.onnx.data'))).equals(files[resumed].content)).toBe(true);
    expect((await readFile(join(dir, 'phi-4-mm-text.onnx'))).equals(files[ignored].content)).toBe(true);
    expect((await listFilesRecursive(dir)).some((p) => p.endsWith('.part'))).toBe(false);
  });

  it('retries a transfer that stalls (no bytes for stallTimeoutMs) and completes it', async () => {
    const files = variantFiles(GPU);
    const path = `${GPU}/phi-4-mm-text.onnx.data`;
    files[path] = { ...files[path], stallAfterBytes: 50_000 };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    await pull();
    expect((await readFile(join(dir, 'phi-4-mm-text.onnx.data'))).equals(files[path].content)).toBe(true);
    expect(hub.downloadsOf(path).map((r) => r.range)).toEqual([undefined, 'bytes=50000-']);
  });

  it('detects a corrupted LFS file: retries once from zero, then fails naming the file and both hashes', async () => {
    const files = variantFiles(GPU);
    const path = `${GPU}/phi-4-mm-text.onnx`;
    const served = Buffer.from(files[path].content);
    served[17] ^= 0xff;
    files[path] = { ...files[path], served };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });

    const err = await expectPullError(pull());
    expect(err.code).toBe('E_MODEL_PULL');
    expect(err.message).toContain('phi-4-mm-text.onnx');
    expect(err.message).toContain(sha256(files[path].content));
    expect(err.message).toContain(sha256(served));
    expect(hub.downloadsOf(path)).toHaveLength(2);
    const onDisk = await listFilesRecursive(dir);
    expect(onDisk).not.toContain('phi-4-mm-text.onnx');
    expect(onDisk).not.toContain('phi-4-mm-text.onnx.part');
  });

  it('skips files already complete and re-downloads one whose content is wrong', async () => {
    const files = variantFiles(GPU);
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    await pull();
    // Same size, different bytes: must be detected by sha256 and fetched again.
    const damaged = join(dir, 'phi-4-mm-text.onnx');
    const bytes = await readFile(damaged);
    bytes[0] ^= 1;
    await writeFile(damaged, bytes);
    const before = hub.requests.length;

    const second = await pull();
    // Besides the planning read of genai_config.json, only the damaged file is fetched again.
    const newRequests = hub.requests
      .slice(before)
      .filter((r) => r.url.includes('/resolve/') && !r.url.endsWith('/genai_config.json'));
    expect(newRequests.map((r) => decodeURIComponent(r.url).split('/').pop())).toEqual(['phi-4-mm-text.onnx']);
    expect(second.files.filter((f) => !f.skipped).map((f) => f.path)).toEqual(['phi-4-mm-text.onnx']);
    expect(second.files.find((f) => f.path === 'phi-4-mm-text.onnx.data')).toMatchObject({ skipped: true });
    expect((await readFile(damaged)).equals(files[`${GPU}/phi-4-mm-text.onnx`].content)).toBe(true);
  });

  it('never leaves a partial file at a final name when a transfer keeps failing', async () => {
    const files = variantFiles(GPU);
    const path = `${GPU}/phi-4-mm-text.onnx.data`;
    // Cut every attempt before any byte: no progress, so the bounded retries run out.
    files[path] = { ...files[path], cutAfterBytes: 0, cutTimes: 100 };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });

    const err = await expectPullError(pull());
    expect(err.code).toBe('E_MODEL_PULL');
    expect(err.message).toContain('phi-4-mm-text.onnx.data');
    expect(hub.downloadsOf(path)).toHaveLength(FAST.retry.maxRetries + 1);
    const onDisk = await listFilesRecursive(dir);
    expect(onDisk).not.toContain('phi-4-mm-text.onnx.data');
    expect(onDisk).not.toContain('genai_config.json');
    // Files sorted before it were completed and verified; nothing else sits at a final name.
    for (const name of onDisk.filter((p) => !p.endsWith('.part'))) {
      const repoPath = `${GPU}/${name}`;
      expect((await readFile(join(dir, name))).equals(files[repoPath].content)).toBe(true);
    }
  });

  it('refuses two CPU folders that fit equally well, listing both', async () => {
    hub = await startFakeHub({
      repo: MODEL_REPO_ID,
      files: { ...variantFiles('cpu/cpu-int4-a'), ...variantFiles('cpu/cpu-int4-b') },
    });
    const err = await expectPullError(pull({ variant: 'cpu' }));
    expect(err.code).toBe('E_MODEL_PULL');
    expect(err.message).toContain('cpu/cpu-int4-a, cpu/cpu-int4-b');
  });

  it('retries the listing on HTTP 503 and gives up with the status after the bounded retries', async () => {
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: variantFiles(GPU), treeFailures: 2 });
    await pull();
    expect(await listFilesRecursive(dir)).toContain('genai_config.json');
    await hub.close();

    hub = await startFakeHub({ repo: MODEL_REPO_ID, files: variantFiles(GPU), treeFailures: 100 });
    const err = await expectPullError(pull({ dir: join(dir, 'other') }));
    expect(err.message).toContain('HTTP 503');
    expect(hub.requests).toHaveLength(FAST.retry.maxRetries + 1);
  });

  it('stops on abort with E_ABORTED and keeps the .part for the next run', async () => {
    const files = variantFiles(GPU);
    const path = `${GPU}/phi-4-mm-text.onnx.data`;
    files[path] = { ...files[path], stallAfterBytes: 60_000 };
    hub = await startFakeHub({ repo: MODEL_REPO_ID, files });
    const controller = new AbortController();
    const err = await expectPullError(
      pull({
        signal: controller.signal,
        stallTimeoutMs: 60_000,
        onProgress: (e) => {
          if (e.type === 'bytes' && e.path === 'phi-4-mm-text.onnx.data' && e.doneBytes > 0) controller.abort();
        },
      }),
    );
    expect(err.code).toBe('E_ABORTED');
    const onDisk = await listFilesRecursive(dir);
    expect(onDisk).toContain('phi-4-mm-text.onnx.data.part');
    expect(onDisk).not.toContain('phi-4-mm-text.onnx.data');
  });

  it('refuses listing paths that would escape the target directory', async () => {
    hub = await startFakeHub({
      repo: MODEL_REPO_ID,
      files: { ...variantFiles(GPU), [`${GPU}/../../evil.txt`]: { content: Buffer.from('x') } },
    });
    const err = await expectPullError(pull());
    expect(err.message).toContain('unexpected path');
  });
});

describe('pullModel without network', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-pull-offline-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function expectManualInstructions(err: EarshotError, endpoint: string): void {
    expect(err.code).toBe('E_MODEL_PULL');
    expect(err.message).toContain(`Cannot reach the Hugging Face hub at ${endpoint}`);
    expect(err.message).toContain(`${endpoint}/${MODEL_REPO_ID}/tree/main/${GPU}`);
    expect(err.message).toContain('phi-4-mm-text.onnx.data');
    expect(err.message).toContain('genai_config.json');
    expect(err.message).toContain(dir);
  }

  it('fails at once with the manual-install message when the port is closed (HF_ENDPOINT)', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await expectPullError(pullModel({ variant: 'gpu', dir, env: { HF_ENDPOINT: endpoint }, ...FAST }));
    expectManualInstructions(err, endpoint);
    expect(err.message).toContain('ECONNREFUSED');
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails with the same message when the host name does not resolve', async () => {
    // undici's failure for an unknown host, injected: tests make no DNS queries.
    const endpoint = 'http://earshot-no-such-host.invalid';
    const fetchImpl = async (): Promise<Response> => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND earshot-no-such-host.invalid'), { code: 'ENOTFOUND' }),
      });
    };
    const err = await expectPullError(
      pullModel({ variant: 'gpu', dir, env: { HF_ENDPOINT: endpoint }, fetchImpl, ...FAST }),
    );
    expectManualInstructions(err, endpoint);
    expect(err.message).toContain('ENOTFOUND');
  });

  it('gives up after the connect timeout when the host accepts but never answers', async () => {
    const silent = await startSilentServer();
    try {
      const err = await expectPullError(
        pullModel({ variant: 'gpu', dir, endpoint: silent.endpoint, env: {}, ...FAST, connectTimeoutMs: 200 }),
      );
      expectManualInstructions(err, silent.endpoint);
      expect(err.message).toContain('within 200 ms');
    } finally {
      await silent.close();
    }
  });

  it('names the CPU folder and the engine files for CPU users', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await expectPullError(pullModel({ variant: 'cpu', dir, endpoint, env: {}, ...FAST }));
    expect(err.message).toContain('cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4');
    expect(err.message).toContain('phi-4-mm-speech.onnx_adapter');
    expect(err.message).not.toContain('phi-4-mm-vision.onnx,');
  });
});
