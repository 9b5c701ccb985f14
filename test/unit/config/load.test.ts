import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envNames, loadConfig } from '../../../src/config/load.ts';
import { configSchema } from '../../../src/config/schema.ts';

function tempJson(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'earshot-config-')), 'config.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('configuration', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({ env: {} });
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 8787 });
    expect(c.vad).toMatchObject({
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: 500,
      max_utterance_ms: 40000,
    });
  });

  it('layers file < environment < flags', () => {
    const file = tempJson({ server: { port: 1000, host: '127.0.0.2' }, vad: { threshold: 0.6 } });
    const c = loadConfig({
      file,
      env: { EARSHOT_PORT: '2000', EARSHOT_VAD_THRESHOLD: '0.7' },
      overrides: { server: { port: 3000 } },
    });
    expect(c.server.port).toBe(3000);
    expect(c.server.host).toBe('127.0.0.2');
    expect(c.vad.threshold).toBe(0.7);
  });

  it('lists every bad key at once', () => {
    const file = tempJson({ server: { port: 'eighty', extra: true }, vad: { threshold: 3 } });
    let message = '';
    try {
      loadConfig({ file, env: { EARSHOT_VAD_SILENCE_DURATION_MS: '-5', EARSHOT_NOPE: '1' } });
    } catch (err) {
      expect((err as { code: string }).code).toBe('E_CONFIG_INVALID');
      message = (err as Error).message;
    }
    for (const needle of ['server.port', 'extra', 'vad.threshold', 'vad.silence_duration_ms', 'EARSHOT_NOPE'])
      expect(message).toContain(needle);
  });

  it('reports an unreadable or non-object file', () => {
    expect(() => loadConfig({ file: tempJson('{oops'), env: {} })).toThrow(/config\.json/);
    expect(() => loadConfig({ file: tempJson([1, 2]), env: {} })).toThrow(/JSON object/);
    expect(() => loadConfig({ file: '/nonexistent/earshot.json', env: {} })).toThrow(/nonexistent/);
  });

  it('describes every option with its unit or reason', () => {
    for (const [section, schema] of Object.entries(configSchema.shape)) {
      const inner = (
        schema as unknown as { _zod: { def: { innerType: { shape: Record<string, { description?: string }> } } } }
      )._zod.def.innerType;
      for (const [key, leaf] of Object.entries(inner.shape)) {
        expect(leaf.description, `${section}.${key} has no .describe()`).toBeTruthy();
      }
    }
  });

  it('maps every leaf to an EARSHOT_ variable', () => {
    const names = envNames();
    expect(names.get('EARSHOT_VAD_MAX_UTTERANCE_MS')).toEqual(['vad', 'max_utterance_ms']);
    expect(names.get('EARSHOT_SERVER_MAX_MESSAGE_BYTES')).toEqual(['server', 'max_message_bytes']);
  });
});
