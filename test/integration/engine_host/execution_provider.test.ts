import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { createEngineHost } from '../../../src/engine/engine_host.ts';
import {
  assertProviderAvailable,
  CUDA_INSTALL_COMMAND,
  CUDA_PROVIDER_FILES,
  ortBindingDir,
  providerSessionOptions,
} from '../../../src/engine/execution_provider.ts';
import { Phi4Engine } from '../../../src/engine/phi4_engine.ts';
import { InPlaceKvCache } from '../../../src/engine/phi4mm/kv_cache_in_place.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { EarshotError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';

// engine.execution_provider / `earshot serve --device`: the option reaches the engine in its worker; a CUDA
// provider that is not installed is refused before any graph loads, with the command that installs it;
// and the float16 (GPU export) boundary runs end to end with the in-place KV cache on the CPU provider.
// These machines have no GPU: nothing here runs CUDA itself.

const BIN = join(REPO_ROOT, 'src', 'cli', 'earshot.mjs');
const cudaInstalledHere = (() => {
  try {
    assertProviderAvailable('cuda');
    return true;
  } catch {
    return false;
  }
})();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function isProviderError(e: unknown): boolean {
  return (
    e instanceof EarshotError &&
    e.code === 'E_ENGINE_PROVIDER' &&
    e.message.includes(CUDA_INSTALL_COMMAND) &&
    e.message.includes('cuDNN 9')
  );
}

describe('execution provider', () => {
  it('cpu is always available; cuda needs both provider libraries next to the binding', () => {
    expect(() => assertProviderAvailable('cpu', '/nonexistent')).not.toThrow();
    const empty = mkdtempSync(join(tmpdir(), 'earshot-ort-bin-'));
    dirs.push(empty);
    expect(() => assertProviderAvailable('cuda', empty)).toThrow(expect.toSatisfy(isProviderError));
    writeFileSync(join(empty, CUDA_PROVIDER_FILES[0]), '');
    expect(() => assertProviderAvailable('cuda', empty)).toThrow(/libonnxruntime_providers_shared\.so/);
    writeFileSync(join(empty, CUDA_PROVIDER_FILES[1]), '');
    if (process.platform === 'linux' && process.arch === 'x64')
      expect(() => assertProviderAvailable('cuda', empty)).not.toThrow();
    expect(() => assertProviderAvailable('tpu' as 'cpu', empty)).toThrow(
      expect.toSatisfy((e: unknown) => (e as EarshotError).code === 'E_ENGINE_PROVIDER'),
    );
    expect(providerSessionOptions('cuda')).toEqual({ executionProviders: ['cuda'] });
    expect(providerSessionOptions('cpu')).toEqual({});
    expect(ortBindingDir()).toMatch(/onnxruntime-node[/\\]bin[/\\]napi-v6/);
  });

  it('the config takes cpu or cuda and nothing else', () => {
    expect(configSchema.parse({}).engine.execution_provider).toBe('cpu');
    expect(configSchema.parse({ engine: { execution_provider: 'cuda' } }).engine.execution_provider).toBe('cuda');
    expect(configSchema.safeParse({ engine: { execution_provider: 'rocm' } }).success).toBe(false);
  });

  it.skipIf(cudaInstalledHere)(
    '`earshot serve --device cuda` refuses to start without the provider, naming the install command',
    () => {
      const r = spawnSync(process.execPath, [BIN, 'serve', '--device', 'cuda', '--port', '0', '--store', ':memory:'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('E_ENGINE_PROVIDER');
      expect(r.stderr).toContain(CUDA_INSTALL_COMMAND);
      expect(r.stdout).not.toContain('listening');
    },
  );

  it.skipIf(cudaInstalledHere)(
    'the engine worker reports E_ENGINE_PROVIDER as its load error; Phi4Engine.load refuses before loading',
    async () => {
      const modelDir = await ensureFixtureModel('tiny', 1, { floatType: 'float16' });
      await expect(Phi4Engine.load({ modelDir, executionProvider: 'cuda' })).rejects.toSatisfy(isProviderError);
      const host = createEngineHost({
        modelDir,
        executionProvider: 'cuda',
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
      try {
        await expect(host.ready).rejects.toSatisfy(isProviderError);
      } finally {
        await host.close();
      }
    },
  );

  it('the float16 export runs on the CPU provider with the in-place KV cache (Uint16 buffers)', async () => {
    const modelDir = await ensureFixtureModel('tiny', 1, { floatType: 'float16' });
    const engine = await Phi4Engine.load({
      modelDir,
      executionProvider: 'cpu',
      sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 },
    });
    try {
      expect(engine.info).toMatchObject({ floatType: 'float16', executionProvider: 'cpu', kvCache: 'in_place' });
      const session = await engine.createSession();
      await session.appendUser([{ type: 'text', text: 'Hello there.' }]);
      let done: { usage: { completionTokens: number } } | undefined;
      for await (const e of session.generate({ maxNewTokens: 6, stopIds: [] })) if (e.type === 'done') done = e;
      expect(done?.usage.completionTokens).toBe(6);
      const cache = session.gen.cache;
      expect(cache).toBeInstanceOf(InPlaceKvCache);
      expect((cache as InPlaceKvCache).placement!.storage.keys[0]).toBeInstanceOf(Uint16Array);
      await session.dispose();
    } finally {
      await engine.close();
    }
  });
});
