// Reading audio files of every supported container: WAV in-process, MP3 / FLAC / Ogg through the WebAssembly
// decoders (files made here with lame and sox from real speech), others through ffmpeg or a clear error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAudioFile, readAudioFileAs16k } from '../../../src/audio/audio_file.ts';
import { sniffContainer } from '../../../src/audio/compressed_audio.ts';
import { writeWav } from '../../../src/audio/wav.ts';
import { CARD_CLIPS, placeWithGaps } from '../../helpers/speech_fixtures.ts';

const hasTool = (name: string) => spawnSync(name, ['--version'], { stdio: 'ignore' }).error === undefined;

function speechWav(): { path: string; samples: Float32Array } {
  const fixture = placeWithGaps({ clips: [CARD_CLIPS[0]], gapsMs: [300, 300] });
  return { path: fixture.wavPath, samples: fixture.samples16k };
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('readAudioFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-audio-file-'));

  it('recognises containers from their bytes, not their names', () => {
    const bytes = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
    expect(sniffContainer(bytes('RIFF\0\0\0\0WAVEfmt '))).toBe('wav');
    expect(sniffContainer(bytes('fLaC\0\0\0\0'))).toBe('flac');
    expect(sniffContainer(bytes('ID3\x04\0\0\0\0'))).toBe('mp3');
    expect(sniffContainer(new Uint8Array([0xff, 0xfb, 0x90, 0x00]))).toBe('mp3');
    expect(sniffContainer(bytes('OggS\0\x02' + '\0'.repeat(22) + '\x01\x13OpusHead'))).toBe('ogg-opus');
    expect(sniffContainer(bytes('OggS\0\x02' + '\0'.repeat(22) + '\x01\x1e\x01vorbis'))).toBe('ogg-vorbis');
    expect(sniffContainer(bytes('\0\0\0\x20ftypM4A \0\0\0\0'))).toBe('mp4');
    expect(sniffContainer(bytes('hello world, not audio'))).toBe('unknown');
  });

  it.runIf(hasTool('sox'))('FLAC decodes losslessly to the WAV it was made from', async () => {
    const { path, samples } = speechWav();
    const flac = join(dir, 'speech.flac');
    execFileSync('sox', [path, flac]);
    const audio = await readAudioFile(flac);
    expect(audio.container).toBe('flac');
    expect(audio.sampleRateHz).toBe(16_000);
    expect(audio.channels[0].length).toBe(samples.length);
    let maxError = 0;
    for (let i = 0; i < samples.length; i++) maxError = Math.max(maxError, Math.abs(audio.channels[0][i] - samples[i]));
    expect(maxError).toBeLessThanOrEqual(1 / 32768);
  });

  it.runIf(hasTool('sox'))('Ogg Vorbis decodes to audio that follows the original (lossy)', async () => {
    const { path, samples } = speechWav();
    const ogg = join(dir, 'speech.ogg');
    execFileSync('sox', [path, '-C', '6', ogg]);
    const audio = await readAudioFileAs16k(ogg);
    expect(audio.container).toBe('ogg-vorbis');
    expect(Math.abs(audio.samples16k.length - samples.length)).toBeLessThan(1600);
    expect(correlation(audio.samples16k, samples)).toBeGreaterThan(0.9);
  });

  it.runIf(hasTool('lame'))('MP3 at 44.1 kHz stereo decodes, mixes and resamples to 16 kHz speech', async () => {
    const { path, samples } = speechWav();
    const stereo44 = join(dir, 'speech44.wav');
    execFileSync('sox', [path, '-r', '44100', '-c', '2', stereo44]);
    const mp3 = join(dir, 'speech.mp3');
    execFileSync('lame', ['--quiet', '-b', '128', stereo44, mp3]);
    const audio = await readAudioFileAs16k(mp3);
    expect(audio.container).toBe('mp3');
    // MP3 adds encoder delay and padding (a few ms); lag-search the best alignment within 60 ms.
    let best = 0;
    for (let lag = 0; lag < 960; lag += 8) best = Math.max(best, correlation(audio.samples16k.subarray(lag), samples));
    expect(best).toBeGreaterThan(0.9);
  });

  it('an unknown format without ffmpeg is one clear error naming the file and the fix', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'this is not audio at all, just text');
    const before = process.env.EARSHOT_FFMPEG;
    process.env.EARSHOT_FFMPEG = '/nonexistent/ffmpeg';
    try {
      await expect(readAudioFile(path)).rejects.toMatchObject({
        code: 'E_UNSUPPORTED_FORMAT',
        message: expect.stringMatching(/notes\.txt.*ffmpeg/),
      });
    } finally {
      if (before === undefined) delete process.env.EARSHOT_FFMPEG;
      else process.env.EARSHOT_FFMPEG = before;
    }
  });

  it('garbage that claims to be MP3 (an ID3 tag and no frame) or FLAC is E_AUDIO_UNREADABLE, never a crash', async () => {
    for (const [name, head] of [
      ['bad.mp3', [0x49, 0x44, 0x33, 0x04]],
      ['bad.flac', [0x66, 0x4c, 0x61, 0x43]],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, new Uint8Array([...head, ...new Array(4000).fill(7)]));
      await expect(readAudioFile(path)).rejects.toMatchObject({ code: expect.stringMatching(/^E_AUDIO_UNREADABLE$/) });
    }
  });

  it('a missing file names the file', async () => {
    await expect(readAudioFile(join(dir, 'missing.wav'))).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining('missing.wav'),
    });
  });

  it('a WAV goes through the WAV reader unchanged', async () => {
    const path = join(dir, 'tone.wav');
    const tone = Float32Array.from({ length: 8000 }, (_, i) => Math.round(0.5 * Math.sin(i / 5) * 32767) / 32768);
    writeFileSync(path, writeWav({ sampleRateHz: 8000, channels: [tone], encoding: 'pcm16' }));
    const audio = await readAudioFileAs16k(path);
    expect(audio.container).toBe('wav');
    expect(Array.from(audio.samples8k!, (v, i) => v - tone[i]).every((d) => d === 0)).toBe(true);
    expect(audio.samples16k.length).toBe(16_000);
  });
});
