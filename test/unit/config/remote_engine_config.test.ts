import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { remoteEngineSchema } from '../../../src/config/remote_engine_schema.ts';

describe('engine.remote and openai_api configuration', () => {
  it('defaults: no remote engine, reuse bounded, limits named', () => {
    const config = loadConfig({ env: {} });
    expect(config.engine.remote.url).toBeUndefined();
    expect(config.engine.remote).toMatchObject({
      model: 'phi-4-multimodal-instruct',
      history: 'audio',
      max_retries: 2,
    });
    expect(config.openai_api).toMatchObject({ max_upload_bytes: 25 * 1024 * 1024, max_chat_audio_ms: 40_000 });
    expect(config.openai_api.prefix_cache_max_bytes).toBeGreaterThan(0);
  });

  it('EARSHOT_ENGINE_URL / EARSHOT_ENGINE_API_KEY are left to `earshot serve`, not refused as unknown', () => {
    expect(() =>
      loadConfig({ env: { EARSHOT_ENGINE_URL: 'http://gpu:8000', EARSHOT_ENGINE_API_KEY: 'k' } }),
    ).not.toThrow();
  });

  it('a remote URL must be a URL; retries are bounded', () => {
    expect(remoteEngineSchema.safeParse({ url: 'not a url' }).success).toBe(false);
    expect(remoteEngineSchema.safeParse({ url: 'http://a:1', max_retries: 11 }).success).toBe(false);
    expect(
      loadConfig({ env: {}, overrides: { engine: { remote: { url: 'http://a:1', speech_model: 'speech' } } } }).engine
        .remote.speech_model,
    ).toBe('speech');
  });
});
