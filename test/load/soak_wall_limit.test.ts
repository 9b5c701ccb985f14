// `earshot bench soak --max-wall-minutes`: on a machine too slow for the audio asked for, the run stops
// sending once the wall time is spent and still reports whole figures for what it sent.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { benchSoak } from '../../src/bench/soak_bench.ts';

describe('bench soak wall-time limit', () => {
  it('stops sending after the wall time: stopped_early, audio_minutes is what was sent; a run within its time is not stopped early', async () => {
    // The limit is spent before the first second of audio goes out: nothing is sent, and the report says so.
    const r = await benchSoak({ minutes: 1, maxWallS: 1e-6, session: { max_output_tokens: 4 } });
    expect(r).toMatchObject({
      stopped_early: true,
      audio_minutes: 0,
      committed: 0,
      transcription_failed: 0,
      responses_failed: 0,
      errors: 0,
    });
    const full = await benchSoak({ minutes: 1 / 60, maxWallS: 600, session: { max_output_tokens: 4 } });
    expect(full.stopped_early).toBe(false);
  }, 300_000);

  it('refuses a limit that is not a positive number (E_CONFIG_INVALID) before loading anything', () => {
    for (const v of ['0', 'soon']) {
      const run = spawnSync(process.execPath, ['src/cli/earshot.mjs', 'bench', 'soak', '--max-wall-minutes', v], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('E_CONFIG_INVALID');
      expect(run.stderr).toContain('--max-wall-minutes');
    }
  }, 120_000);
});
