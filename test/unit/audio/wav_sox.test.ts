// Interoperability with sox, an independent WAV implementation: its files decode to the samples it reports,
// and it reads our files back unchanged.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWav, readWavFile, writeWav } from '../../../src/audio/wav.ts';

const dir = mkdtempSync(join(tmpdir(), 'earshot-sox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sox(...args: string[]): void {
  execFileSync('sox', ['-D', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** sox's own decoding of a WAV to interleaved raw samples. */
function soxRaw(wavPath: string, encoding: 'signed-integer' | 'floating-point'): Buffer {
  const rawPath = `${wavPath}.raw`;
  sox(wavPath, '-t', 'raw', '-e', encoding, '-b', encoding === 'signed-integer' ? '16' : '32', rawPath);
  return readFileSync(rawPath);
}

function deinterleave(raw: Buffer, channelCount: number, kind: 'int16' | 'float32'): Float32Array[] {
  const bytesPerSample = kind === 'int16' ? 2 : 4;
  const frames = raw.length / bytesPerSample / channelCount;
  return Array.from({ length: channelCount }, (_, c) =>
    Float32Array.from({ length: frames }, (_, i) => {
      const offset = (i * channelCount + c) * bytesPerSample;
      return kind === 'int16' ? raw.readInt16LE(offset) / 32768 : raw.readFloatLE(offset);
    }),
  );
}

describe('sox-written WAVs', () => {
  it('16-bit stereo 44.1 kHz with a comment (LIST chunk after data)', async () => {
    const path = join(dir, 'stereo16.wav');
    sox(
      '-n',
      '-r',
      '44100',
      '-c',
      '2',
      '-b',
      '16',
      '-e',
      'signed-integer',
      '--comment',
      'earshot test',
      path,
      'synth',
      '0.05',
      'sine',
      '440',
      'sine',
      '1000',
      'vol',
      '0.7',
    );
    const audio = await readWavFile(path);
    expect(audio.sampleRateHz).toBe(44100);
    expect(audio.encoding).toBe('pcm16');
    expect(audio.channels).toHaveLength(2);
    expect(audio.channels[0].length).toBe(2205);
    expect(audio.channels).toEqual(deinterleave(soxRaw(path, 'signed-integer'), 2, 'int16'));
    expect(Math.max(...audio.channels[1].map(Math.abs))).toBeGreaterThan(0.5); // real signal, not zeros
  });

  it('32-bit float mono 8 kHz', () => {
    const path = join(dir, 'float8k.wav');
    sox('-n', '-r', '8000', '-c', '1', '-b', '32', '-e', 'floating-point', path, 'synth', '0.1', 'sine', '300');
    const audio = readWav(readFileSync(path));
    expect(audio).toMatchObject({ sampleRateHz: 8000, encoding: 'float32' });
    expect(audio.channels).toEqual(deinterleave(soxRaw(path, 'floating-point'), 1, 'float32'));
  });

  it('16-bit 4-channel (sox writes WAVE_FORMAT_EXTENSIBLE)', () => {
    const path = join(dir, 'quad.wav');
    sox('-n', '-r', '16000', '-c', '4', '-b', '16', path, 'synth', '0.02', 'whitenoise', 'vol', '0.3');
    const bytes = readFileSync(path);
    expect(bytes.readUInt16LE(20)).toBe(0xfffe);
    expect(readWav(bytes).channels).toEqual(deinterleave(soxRaw(path, 'signed-integer'), 4, 'int16'));
  });

  it('sox reads writeWav output back to the same samples', () => {
    const channels = [Float32Array.from({ length: 800 }, (_, i) => Math.round(Math.sin(i / 10) * 20000) / 32768)];
    for (const encoding of ['pcm16', 'float32'] as const) {
      const path = join(dir, `ours-${encoding}.wav`);
      writeFileSync(path, writeWav({ sampleRateHz: 8000, channels, encoding }));
      const info = execFileSync('soxi', [path]).toString();
      expect(info).toMatch(/Sample Rate\s*:\s*8000/);
      const raw = soxRaw(path, encoding === 'pcm16' ? 'signed-integer' : 'floating-point');
      expect(deinterleave(raw, 1, encoding === 'pcm16' ? 'int16' : 'float32')).toEqual(channels);
    }
  });

  it('rejects sox 8-bit PCM WAVs with their name', () => {
    const u8 = join(dir, 'u8.wav');
    sox('-n', '-r', '8000', '-c', '1', '-b', '8', '-e', 'unsigned-integer', u8, 'synth', '0.01', 'sine', '300');
    expect(() => readWav(readFileSync(u8))).toThrow(/8-bit PCM is not supported/);
  });

  it('reads sox mu-law and A-law WAVs to the same samples sox decodes', () => {
    for (const law of ['mu-law', 'a-law']) {
      const path = join(dir, `${law}.wav`);
      sox('-n', '-r', '8000', '-c', '1', '-e', law, path, 'synth', '0.05', 'sine', '300');
      const wav = readWav(readFileSync(path));
      expect(wav.encoding).toBe(law === 'mu-law' ? 'mulaw' : 'alaw');
      expect(wav.channels).toEqual(deinterleave(soxRaw(path, 'signed-integer'), 1, 'int16'));
    }
  });

  it('reads sox 24-bit and 32-bit PCM WAVs', () => {
    for (const bits of ['24', '32']) {
      const path = join(dir, `pcm${bits}.wav`);
      sox(
        '-n',
        '-r',
        '16000',
        '-c',
        '2',
        '-b',
        bits,
        '-e',
        'signed-integer',
        path,
        'synth',
        '0.02',
        'sine',
        '300',
        'sine',
        '500',
      );
      const wav = readWav(readFileSync(path));
      expect(wav.encoding).toBe(`pcm${bits}`);
      const reference = deinterleave(soxRaw(path, 'signed-integer'), 2, 'int16');
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < reference[c].length; i++)
          expect(Math.abs(wav.channels[c][i] - reference[c][i])).toBeLessThanOrEqual(1 / 32768);
    }
  });
});
