import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeALaw, decodeMuLaw } from '../../../src/audio/g711.ts';
import { resample } from '../../../src/audio/resample.ts';
import { readWav, writeWav } from '../../../src/audio/wav.ts';
import { wavAs16k } from '../../../src/audio/wav_input.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { segmentOffline } from '../../../src/pipeline/offline.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';
import { CARD_CLIPS, LIBRIVOX_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';

const BIN = join(REPO_ROOT, 'src', 'cli', 'earshot.mjs');

function earshot(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('earshot CLI', () => {
  it('vad --json prints the segments of the shared pipeline', async () => {
    const fixture = placeWithGaps({ clips: [LIBRIVOX_CLIPS[1], CARD_CLIPS[0]], gapsMs: [800, 1500, 1000] });
    const r = earshot(['vad', fixture.wavPath, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { segments: Record<string, number | string>[] };
    const expected = await segmentOffline(fixture.samples16k, defaultConfig().vad);
    expect(out.segments).toEqual(
      expected.map((u) => ({
        start_ms: Math.round(u.speechStartMs),
        end_ms: Math.round(u.speechEndMs),
        end_reason: u.endReason,
        audio_start_ms: Math.round(u.startSample / 16),
        audio_end_ms: Math.round(u.endSample / 16),
      })),
    );
    expect(out.segments).toHaveLength(2);
    for (const s of out.segments) {
      expect(Object.keys(s).sort()).toEqual(['audio_end_ms', 'audio_start_ms', 'end_ms', 'end_reason', 'start_ms']);
      expect(s.audio_start_ms as number).toBeLessThanOrEqual(s.start_ms as number);
      expect(s.audio_end_ms as number).toBeGreaterThan(s.end_ms as number);
    }
  });

  it('vad flags change the parameters', () => {
    const fixture = placeWithGaps({ clips: [LIBRIVOX_CLIPS[1]], gapsMs: [800, 1000] });
    const r = earshot(['vad', fixture.wavPath, '--json', '--prefix-padding-ms', '0']);
    const [seg] = (JSON.parse(r.stdout) as { segments: { start_ms: number; audio_start_ms: number }[] }).segments;
    expect(seg.audio_start_ms).toBe(seg.start_ms);
  });

  it('invalid configuration lists every bad key and exits non-zero before serving', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-cli-'));
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ server: { port: -1 }, vad: { threshold: 'high' } }));
    const r = earshot(['serve', '--config', config], { EARSHOT_VAD_SILENCE_DURATION_MS: '0' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('server.port');
    expect(r.stderr).toContain('vad.threshold');
    expect(r.stderr).toContain('vad.silence_duration_ms');
    expect(r.stdout).not.toContain('listening');
  });

  it('vad reads G.711 WAVs (mu-law and A-law) and keeps their 8 kHz samples for the model', async () => {
    const fixture = placeWithGaps({ clips: [LIBRIVOX_CLIPS[1], CARD_CLIPS[0]], gapsMs: [800, 1500, 1000] });
    const dir = mkdtempSync(join(tmpdir(), 'earshot-cli-'));
    for (const encoding of ['mulaw', 'alaw'] as const) {
      const bytes = writeWav({ sampleRateHz: 8000, encoding, channels: [resample(fixture.samples16k, 16000, 8000)] });
      const file = join(dir, `${encoding}.wav`);
      writeFileSync(file, bytes);
      const r = earshot(['vad', file, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const segments = (JSON.parse(r.stdout) as { segments: { start_ms: number; end_ms: number }[] }).segments;
      expect(segments).toHaveLength(2);
      segments.forEach((s, i) =>
        expect(Math.abs(s.start_ms - fixture.truth[i].onsetMs), JSON.stringify(segments)).toBeLessThanOrEqual(150),
      );
      const audio = wavAs16k(readWav(bytes));
      expect(audio.samples8k).toEqual(
        encoding === 'mulaw' ? decodeMuLaw(bytes.subarray(58)) : decodeALaw(bytes.subarray(58)),
      );
      const utterances = await segmentOffline(audio.samples16k, defaultConfig().vad, audio.samples8k);
      expect(utterances.map((u) => u.pcm8k?.length)).toEqual(
        utterances.map((u) => Math.floor(u.endSample / 2) - Math.floor(u.startSample / 2)),
      );
    }
  });

  it('a bad WAV gets a clear error code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-cli-'));
    const file = join(dir, 'not.wav');
    writeFileSync(file, 'this is not audio');
    const r = earshot(['vad', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_WAV_INVALID/);
    const stereo = join(dir, 'stereo48k.wav');
    writeFileSync(
      stereo,
      writeWav({
        sampleRateHz: 48000,
        encoding: 'float32',
        channels: [new Float32Array(4800), new Float32Array(4800)],
      }),
    );
    expect(earshot(['vad', stereo, '--json']).stdout).toContain('"segments":[]');
  });
});
