import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `earshot config` says which voice engine `earshot serve` would speak with (on stderr: stdout stays a
// valid config file), or why there is none.
const BIN = fileURLToPath(new URL('../../../src/cli/earshot.mjs', import.meta.url));
const earshot = (env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [BIN, 'config'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('earshot config: the voice engine', () => {
  it('names espeak-ng under tts.engine=auto here, and stdout stays JSON', () => {
    const r = earshot();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).tts.engine).toBe('auto');
    expect(r.stderr).toMatch(/^voice engine: espeak \(tts\.engine=auto\)/m);
  });

  it('EARSHOT_TTS_URL picks the remote engine, as for earshot serve', () => {
    const r = earshot({ EARSHOT_TTS_URL: 'http://127.0.0.1:9/v1' });
    expect(r.stderr).toMatch(/^voice engine: remote \(tts\.engine=auto\)/m);
  });

  it('says why there is none and how to fix it', () => {
    const r = earshot({ EARSHOT_TTS_ENGINE: 'remote' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/voice engine: none \(tts\.engine=remote\).*tts\.remote\.url/);
  });
});
