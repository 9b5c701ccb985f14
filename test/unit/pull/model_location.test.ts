import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cacheModelDir,
  defaultModelDir,
  isModelVariant,
  resolveModelDir,
} from '../../../src/engine/phi4mm/model_location.ts';

const CACHE_TAIL = join('earshot', 'models', 'phi-4-multimodal-instruct-onnx');

describe('model location', () => {
  it('defaults to the XDG cache, per variant', () => {
    expect(cacheModelDir('gpu', { XDG_CACHE_HOME: '/var/cache/me' })).toBe(join('/var/cache/me', CACHE_TAIL, 'gpu'));
    expect(defaultModelDir('cpu', {})).toBe(join(homedir(), '.cache', CACHE_TAIL, 'cpu'));
    // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    expect(cacheModelDir('cpu', { XDG_CACHE_HOME: 'relative/dir' })).toBe(join(homedir(), '.cache', CACHE_TAIL, 'cpu'));
  });

  it('lets EARSHOT_MODEL win over the cache default', () => {
    expect(defaultModelDir('gpu', { EARSHOT_MODEL: '/models/phi', XDG_CACHE_HOME: '/x' })).toBe('/models/phi');
    expect(defaultModelDir('gpu', { EARSHOT_MODEL: '  ' })).toBe(join(homedir(), '.cache', CACHE_TAIL, 'gpu'));
  });

  it('applies flag > EARSHOT_MODEL > config model.dir > cache', () => {
    const env = { EARSHOT_MODEL: '/from/env', XDG_CACHE_HOME: '/cache' };
    expect(resolveModelDir({ model: '/from/flag', configDir: '/from/config', env })).toBe('/from/flag');
    expect(resolveModelDir({ configDir: '/from/config', env })).toBe('/from/env');
    expect(resolveModelDir({ configDir: '/from/config', env: { XDG_CACHE_HOME: '/cache' } })).toBe('/from/config');
    expect(resolveModelDir({ variant: 'gpu', env: { XDG_CACHE_HOME: '/cache' } })).toBe(
      join('/cache', CACHE_TAIL, 'gpu'),
    );
    expect(resolveModelDir({ env: { XDG_CACHE_HOME: '/cache' } })).toBe(join('/cache', CACHE_TAIL, 'cpu'));
  });

  it('resolves relative paths against the working directory', () => {
    expect(resolveModelDir({ model: 'models/phi', env: {} })).toBe(resolve('models/phi'));
  });

  it('recognises variants', () => {
    expect(isModelVariant('cpu')).toBe(true);
    expect(isModelVariant('gpu')).toBe(true);
    expect(isModelVariant('cuda')).toBe(false);
  });
});
