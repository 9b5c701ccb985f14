import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EarshotError } from '../../../src/errors.ts';
import { ModelProvisioner, modelNeedsPull, modelReadiness } from '../../../src/engine/model_provisioning.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { silentLogger } from '../../../src/engine/engine_logger.ts';

// A provisioner that has not run: its status is the start of a download.
const provisioner = (): ModelProvisioner<unknown> =>
  new ModelProvisioner<unknown>({
    dir: '/m',
    log: silentLogger,
    load: async () => ({ engine: null }),
    settings: { variant: 'cpu', env: {}, progressStream: process.stderr },
  });

describe('modelReadiness (the model part of /readyz)', () => {
  it('reports a download in progress, with the percent', () => {
    expect(modelReadiness(null, undefined, provisioner())).toEqual({
      status: 'downloading',
      percent: 0,
      downloaded_bytes: 0,
      total_bytes: 0,
    });
  });

  it('tells a missing model from an invalid one, without the message', () => {
    expect(modelReadiness(null, new EarshotError('E_MODEL_MISSING', '/secret/path'), null)).toEqual({
      status: 'model_missing',
    });
    expect(modelReadiness(null, new EarshotError('E_MODEL_INVALID', '/secret/path'), null)).toEqual({
      status: 'model_invalid',
    });
    expect(modelReadiness(null, undefined, null)).toEqual({ status: 'model_missing' });
  });

  it('is ready with a loaded engine, loading while its worker restarts', () => {
    expect(modelReadiness({}, undefined, provisioner())).toEqual({ status: 'ready' });
    expect(modelReadiness({ isReady: true }, undefined, null)).toEqual({ status: 'ready' });
    expect(modelReadiness({ isReady: false }, undefined, null)).toEqual({ status: 'loading' });
  });
});

describe('modelNeedsPull', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is true for an absent or incomplete directory, false for a complete one or a broken config', async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-needs-pull-'));
    expect(modelNeedsPull(join(dir, 'absent'))).toBe(true);
    expect(modelNeedsPull(dir)).toBe(true);
    const fixture = await ensureFixtureModel('tiny');
    expect(modelNeedsPull(fixture)).toBe(false);
    // A real genai_config.json without the graphs: the pull completes the directory.
    await copyFile(join(fixture, 'genai_config.json'), join(dir, 'genai_config.json'));
    expect(modelNeedsPull(dir)).toBe(true);
    // A broken config is reported by the load, not downloaded over.
    await writeFile(join(dir, 'genai_config.json'), '{ not json');
    expect(modelNeedsPull(dir)).toBe(false);
  }, 300_000);
});
