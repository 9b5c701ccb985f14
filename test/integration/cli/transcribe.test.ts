import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAudioFileAs16k } from '../../../src/audio/audio_file.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { ensureFixtureModel } from '../../../src/engine/phi4mm/fixture/index.ts';
import { segmentOffline } from '../../../src/pipeline/offline.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';

// `earshot transcribe` on real speech with the tiny model: the text is meaningless (random weights), the
// cue times must be the VAD's utterance times.

const BIN = join(REPO_ROOT, 'src', 'cli', 'earshot.mjs');

function parseVttTimes(vtt: string): [number, number][] {
  const toMs = (t: string) => {
    const [h, m, rest] = t.split(':');
    return (Number(h) * 3600 + Number(m) * 60 + Number(rest)) * 1000;
  };
  return [...vtt.matchAll(/(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})/g)].map((m) => [toMs(m[1]), toMs(m[2])]);
}

describe('earshot transcribe', () => {
  it('prints VTT with one cue per VAD utterance at the utterance times', async () => {
    const model = await ensureFixtureModel('tiny');
    const fixture = placeWithGaps({
      clips: [LIBRIVOX_CLIPS[3], CARD_CLIPS[2], LIBRIVOX_CLIPS[4]],
      gapsMs: [600, 1200, 1500, 900],
    });
    const r = spawnSync(
      process.execPath,
      [BIN, 'transcribe', fixture.wavPath, '--model', model, '--format', 'vtt', '--max-new-tokens', '6'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith('WEBVTT\n')).toBe(true);
    const utterances = await segmentOffline(fixture.samples16k, defaultConfig().vad);
    expect(utterances).toHaveLength(3);
    const times = parseVttTimes(r.stdout);
    expect(times).toHaveLength(utterances.length);
    times.forEach(([start, end], i) => {
      expect(Math.abs(start - utterances[i].startSample / 16)).toBeLessThanOrEqual(1);
      expect(Math.abs(end - utterances[i].endSample / 16)).toBeLessThanOrEqual(1);
    });
  });

  it('a missing file fails at once, naming the file, before any model is loaded', () => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'transcribe', '/nonexistent/call.wav', '--model', '/nonexistent/model'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^earshot: E_FILE_NOT_FOUND: .*\/nonexistent\/call\.wav/);
    expect(r.stderr).not.toMatch(/E_MODEL_MISSING/);
  });

  it.runIf(spawnSync('lame', ['--version'], { stdio: 'ignore' }).error === undefined)(
    'an MP3 transcribes with one cue per VAD utterance of its audio',
    async () => {
      const model = await ensureFixtureModel('tiny');
      const fixture = placeWithGaps({ clips: [CARD_CLIPS[1], LIBRIVOX_CLIPS[2]], gapsMs: [700, 1300, 800] });
      const mp3 = fixture.wavPath.replace(/\.wav$/, '.mp3');
      execFileSync('lame', ['--quiet', '-b', '96', fixture.wavPath, mp3]);
      const r = spawnSync(
        process.execPath,
        [BIN, 'transcribe', mp3, '--model', model, '--format', 'srt', '--max-new-tokens', '4'],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const decoded = await readAudioFileAs16k(mp3);
      const utterances = await segmentOffline(decoded.samples16k, defaultConfig().vad);
      expect(utterances.length).toBeGreaterThanOrEqual(2);
      const cues = [...r.stdout.matchAll(/^(\d+)\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/gm)];
      expect(cues.map((m) => Number(m[1]))).toEqual(utterances.map((_, i) => i + 1));
    },
  );

  it('a missing model is one clear error naming the fix', async () => {
    const fixture = placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [500, 900] });
    const r = spawnSync(process.execPath, [BIN, 'transcribe', fixture.wavPath, '--model', '/nonexistent/model'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_MODEL_MISSING/);
    expect(r.stderr).toMatch(/model pull/);
  });
});
