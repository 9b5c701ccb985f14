import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../../src/audio/g711.ts';
import { mixToMono, readWav, readWavFile, writeWav, type WavAudio } from '../../../src/audio/wav.ts';
import { EarshotError, type ErrorCode } from '../../../src/errors.ts';
import { buildWav, chunk, float32Payload, fmtChunk, int16Payload } from './wav_builder.ts';

function expectWavError(bytes: Uint8Array, code: ErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    readWav(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EarshotError);
  expect((caught as EarshotError).code).toBe(code);
  expect((caught as EarshotError).message).toMatch(message);
}

const PCM16_MONO_8K = { formatCode: 1, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 16 };

/** Random audio that survives the pcm16 round trip exactly (multiples of 1/32768). */
function pcm16Channel(length: number, seed: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => (((i * 7919 + seed * 104729) % 65536) - 32768) / 32768);
}

describe('writeWav / readWav round trip', () => {
  const cases: Array<[WavAudio['encoding'], number, number]> = [];
  for (const encoding of ['pcm16', 'float32'] as const) {
    for (const channelCount of [1, 2]) for (const rateHz of [8000, 44100]) cases.push([encoding, channelCount, rateHz]);
  }
  it.each(cases)('%s, %i channel(s), %i Hz', (encoding, channelCount, sampleRateHz) => {
    const channels = Array.from({ length: channelCount }, (_, c) =>
      encoding === 'pcm16'
        ? pcm16Channel(1001, c)
        : Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i * (c + 1) * 0.01) * 1.5),
    );
    const audio: WavAudio = { sampleRateHz, channels, encoding };
    const bytes = writeWav(audio);
    expect(readWav(bytes)).toEqual(audio);
  });

  it('round-trips any float32 channels exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.nat({ max: 50 }),
        fc.integer({ min: 1, max: 192000 }),
        (channelCount, length, rateHz) => {
          const channels = Array.from({ length: channelCount }, () =>
            Float32Array.from({ length }, () => Math.fround(Math.random() * 4 - 2)),
          );
          const audio: WavAudio = { sampleRateHz: rateHz, channels, encoding: 'float32' };
          expect(readWav(writeWav(audio))).toEqual(audio);
        },
      ),
    );
  });

  it('writes the canonical 44-byte PCM16 header and clamps out-of-range samples', () => {
    const bytes = writeWav({ sampleRateHz: 16000, channels: [new Float32Array([0.5, -2, 2])], encoding: 'pcm16' });
    expect(bytes.length).toBe(44 + 6);
    const view = new DataView(bytes.buffer);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('RIFF');
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(Buffer.from(bytes.subarray(8, 16)).toString('latin1')).toBe('WAVEfmt ');
    expect([view.getUint32(16, true), view.getUint16(20, true), view.getUint16(22, true)]).toEqual([16, 1, 1]);
    expect([
      view.getUint32(24, true),
      view.getUint32(28, true),
      view.getUint16(32, true),
      view.getUint16(34, true),
    ]).toEqual([16000, 32000, 2, 16]);
    expect(Buffer.from(bytes.subarray(36, 40)).toString('latin1')).toBe('data');
    expect(view.getUint32(40, true)).toBe(6);
    expect([view.getInt16(44, true), view.getInt16(46, true), view.getInt16(48, true)]).toEqual([16384, -32768, 32767]);
  });

  it('rejects channels of different lengths', () => {
    expect(() =>
      writeWav({ sampleRateHz: 8000, channels: [new Float32Array(2), new Float32Array(3)], encoding: 'pcm16' }),
    ).toThrow(EarshotError);
  });
});

describe('readWav layouts', () => {
  it('reads WAVE_FORMAT_EXTENSIBLE PCM16 stereo and float32 mono', () => {
    const pcm = readWav(
      buildWav([
        fmtChunk({ formatCode: 0xfffe, channelCount: 2, sampleRateHz: 48000, bitsPerSample: 16, subFormat: 1 }),
        chunk('data', int16Payload([1000, -1000, 16384, -32768])),
      ]),
    );
    expect(pcm).toEqual({
      sampleRateHz: 48000,
      encoding: 'pcm16',
      channels: [new Float32Array([1000 / 32768, 0.5]), new Float32Array([-1000 / 32768, -1])],
    });
    const float = readWav(
      buildWav([
        fmtChunk({ formatCode: 0xfffe, channelCount: 1, sampleRateHz: 22050, bitsPerSample: 32, subFormat: 3 }),
        chunk('data', float32Payload([0.25, -0.75])),
      ]),
    );
    expect(float).toEqual({ sampleRateHz: 22050, encoding: 'float32', channels: [new Float32Array([0.25, -0.75])] });
  });

  it('skips a LIST chunk (odd-sized, padded) before fmt and before data', () => {
    const list = chunk(
      'LIST',
      Array.from('INFOISFT\x03\x00\x00\x00ab\x00', (c) => c.charCodeAt(0)),
    ); // 15 bytes + pad
    expect(list.payload.length % 2).toBe(1);
    const audio = readWav(
      buildWav([
        list,
        fmtChunk(PCM16_MONO_8K),
        list,
        chunk('fact', [1, 0, 0, 0]),
        chunk('data', int16Payload([7, -7, 3])),
      ]),
    );
    expect(audio.channels[0]).toEqual(new Float32Array([7, -7, 3].map((v) => v / 32768)));
  });

  it('tolerates a writer that forgot the pad byte after an odd-sized chunk', () => {
    const padded = buildWav([
      fmtChunk(PCM16_MONO_8K),
      chunk('LIST', [0x41, 0x42, 0x43]),
      chunk('data', int16Payload([9, -9])),
    ]);
    const listPadIndex = 12 + 24 + 8 + 3;
    expect(padded[listPadIndex]).toBe(0);
    const unpadded = new Uint8Array([...padded.subarray(0, listPadIndex), ...padded.subarray(listPadIndex + 1)]);
    for (const bytes of [padded, unpadded])
      expect(readWav(bytes).channels[0]).toEqual(new Float32Array([9 / 32768, -9 / 32768]));
  });

  it('ignores chunks after data and a pad byte after odd-length data', () => {
    const audio = readWav(buildWav([fmtChunk(PCM16_MONO_8K), chunk('data', [1, 0, 2]), chunk('LIST', [0, 0, 0, 0])]));
    expect(audio.channels[0]).toEqual(new Float32Array([1 / 32768])); // the partial frame is dropped
  });

  it('accepts streamed files whose data size is 0xFFFFFFFF or larger than the file', () => {
    for (const declaredSize of [0xffffffff, 1000]) {
      const audio = readWav(buildWav([fmtChunk(PCM16_MONO_8K), chunk('data', int16Payload([5, 6, 7]), declaredSize)]));
      expect(audio.channels[0]).toEqual(new Float32Array([5, 6, 7].map((v) => v / 32768)));
    }
  });

  it('reads a view that does not start at offset 0 of its buffer', () => {
    const wav = buildWav([fmtChunk(PCM16_MONO_8K), chunk('data', int16Payload([-2, 2]))]);
    const padded = new Uint8Array(wav.length + 3);
    padded.set(wav, 3);
    expect(readWav(padded.subarray(3)).channels[0]).toEqual(new Float32Array([-2 / 32768, 2 / 32768]));
  });
});

describe('24/32-bit PCM, 64-bit float and G.711 WAVs', () => {
  it('24- and 32-bit PCM decode to the same values as 16-bit, also inside WAVE_FORMAT_EXTENSIBLE', () => {
    const pcm16 = pcm16Channel(500, 3);
    for (const [bits, scale] of [
      [24, 256],
      [32, 65536],
    ] as const) {
      const bytes = new Uint8Array(pcm16.length * (bits / 8));
      const view = new DataView(bytes.buffer);
      pcm16.forEach((x, i) => {
        const value = Math.round(x * 32768) * scale;
        if (bits === 24) {
          view.setUint16(3 * i, value & 0xffff, true);
          view.setInt8(3 * i + 2, value >> 16);
        } else view.setInt32(4 * i, value, true);
      });
      for (const formatCode of [1, 0xfffe]) {
        const wav = readWav(
          buildWav([
            fmtChunk({ formatCode, subFormat: 1, channelCount: 1, sampleRateHz: 8000, bitsPerSample: bits }),
            chunk('data', bytes),
          ]),
        );
        expect(wav.encoding).toBe(bits === 24 ? 'pcm24' : 'pcm32');
        expect(wav.channels[0]).toEqual(pcm16);
      }
    }
  });

  it('round-trips 24/32-bit PCM and 64-bit float through writeWav', () => {
    const channels = [pcm16Channel(300, 1), pcm16Channel(300, 2)];
    for (const encoding of ['pcm24', 'pcm32', 'float64'] as const)
      expect(readWav(writeWav({ sampleRateHz: 16000, channels, encoding }))).toEqual({
        sampleRateHz: 16000,
        channels,
        encoding,
      });
  });

  it('G.711 mu-law (tag 7) and A-law (tag 6) decode by the G.711 tables, stereo interleaved', () => {
    const codes = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    for (const [formatCode, encoding, decode] of [
      [7, 'mulaw', decodeMuLaw],
      [6, 'alaw', decodeALaw],
    ] as const) {
      const mono = readWav(
        buildWav([
          fmtChunk({ formatCode, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 8 }),
          chunk('data', codes),
        ]),
      );
      expect(mono).toEqual({ sampleRateHz: 8000, encoding, channels: [decode(codes)] });
      const stereo = readWav(
        buildWav([
          fmtChunk({ formatCode, channelCount: 2, sampleRateHz: 8000, bitsPerSample: 8 }),
          chunk('data', codes),
        ]),
      );
      expect(stereo.channels[1]).toEqual(decode(codes.filter((_, i) => i % 2 === 1)));
    }
  });

  it('writeWav writes G.711 with its tag, 8 bits, and a fact chunk; reading gives the decoded codes back', () => {
    const samples = Float32Array.from({ length: 400 }, (_, i) => 0.6 * Math.sin(i / 7));
    for (const [encoding, tag, encode, decode] of [
      ['mulaw', 7, encodeMuLaw, decodeMuLaw],
      ['alaw', 6, encodeALaw, decodeALaw],
    ] as const) {
      const bytes = writeWav({ sampleRateHz: 8000, channels: [samples], encoding });
      const view = new DataView(bytes.buffer);
      expect([view.getUint16(20, true), view.getUint16(34, true)]).toEqual([tag, 8]);
      expect(Buffer.from(bytes.subarray(38, 42)).toString('latin1')).toBe('fact');
      expect(readWav(bytes).channels[0]).toEqual(decode(encode(samples)));
    }
  });
});

describe('readWav errors', () => {
  const data = chunk('data', [0, 0, 0, 0]);
  it('8-bit PCM', () => {
    expectWavError(
      buildWav([fmtChunk({ ...PCM16_MONO_8K, bitsPerSample: 8 }), data]),
      'E_WAV_UNSUPPORTED',
      /^8-bit PCM is not supported; convert to 16-bit PCM or float32/,
    );
  });
  it('PCM other than 16, 24 or 32 bits, and float other than 32 or 64 bits', () => {
    expectWavError(
      buildWav([fmtChunk({ ...PCM16_MONO_8K, bitsPerSample: 12 }), data]),
      'E_WAV_UNSUPPORTED',
      /12-bit PCM is not supported/,
    );
    expectWavError(
      buildWav([fmtChunk({ formatCode: 3, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 16 }), data]),
      'E_WAV_UNSUPPORTED',
      /16-bit float/,
    );
  });
  it('G.711 with other than 8 bits per sample, and unknown formats', () => {
    expectWavError(
      buildWav([fmtChunk({ formatCode: 7, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 16 }), data]),
      'E_WAV_UNSUPPORTED',
      /mu-law \(G\.711\) WAV with 16 bits per sample is not supported/,
    );
    expectWavError(
      buildWav([fmtChunk({ formatCode: 6, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 4 }), data]),
      'E_WAV_UNSUPPORTED',
      /A-law/,
    );
    expectWavError(
      buildWav([fmtChunk({ formatCode: 0x1234, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 4 }), data]),
      'E_WAV_UNSUPPORTED',
      /WAV format 0x1234 is not supported/,
    );
  });
  it('truncated header', () => {
    const whole = buildWav([fmtChunk(PCM16_MONO_8K), data]);
    expectWavError(whole.subarray(0, 8), 'E_WAV_INVALID', /only 8 bytes/);
    expectWavError(whole.subarray(0, 16), 'E_WAV_INVALID', /no fmt chunk/);
    expectWavError(whole.subarray(0, 30), 'E_WAV_INVALID', /truncated inside its fmt chunk/);
    expectWavError(whole.subarray(0, 36), 'E_WAV_INVALID', /no data chunk/);
    expectWavError(new Uint8Array(0), 'E_WAV_INVALID', /only 0 bytes/);
  });
  it('not RIFF', () => {
    const text = new TextEncoder().encode('OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00');
    expectWavError(text, 'E_WAV_INVALID', /Not a WAV file: expected "RIFF....WAVE", found "OggS"/);
    expectWavError(
      buildWav([fmtChunk(PCM16_MONO_8K), data], 'RIFF', 'AVI '),
      'E_WAV_INVALID',
      /found "RIFF"\.\.\."AVI "/,
    );
    expectWavError(buildWav([fmtChunk(PCM16_MONO_8K), data], 'RIFX'), 'E_WAV_UNSUPPORTED', /Big-endian \(RIFX\)/);
  });
  it('structural problems', () => {
    expectWavError(buildWav([data, fmtChunk(PCM16_MONO_8K)]), 'E_WAV_INVALID', /data chunk comes before any fmt chunk/);
    expectWavError(buildWav([chunk('fmt ', [1, 0, 1, 0]), data]), 'E_WAV_INVALID', /fmt chunk is 4 bytes/);
    expectWavError(buildWav([fmtChunk({ ...PCM16_MONO_8K, channelCount: 0 }), data]), 'E_WAV_INVALID', /0 channels/);
    expectWavError(
      buildWav([fmtChunk({ ...PCM16_MONO_8K, sampleRateHz: 0 }), data]),
      'E_WAV_INVALID',
      /sample rate of 0 Hz/,
    );
    const extensible = fmtChunk({ formatCode: 0xfffe, channelCount: 1, sampleRateHz: 8000, bitsPerSample: 16 });
    extensible.payload[30] ^= 0xff; // corrupt the GUID
    expectWavError(buildWav([extensible, data]), 'E_WAV_UNSUPPORTED', /non-standard subformat GUID/);
  });
});

describe('mixToMono', () => {
  it('averages the channels into a fresh array', () => {
    expect(mixToMono([new Float32Array([1, 0.5]), new Float32Array([0, -0.5])])).toEqual(new Float32Array([0.5, 0]));
    const three = mixToMono([
      new Float32Array([0.3, 0.6, 0.9]),
      new Float32Array([0, 0, 0]),
      new Float32Array([0.3, 0, 0]),
    ]);
    [0.2, 0.2, 0.3].forEach((value, i) => expect(three[i]).toBeCloseTo(value, 6));
    const mono = new Float32Array([0.1, 0.2]);
    const mixed = mixToMono([mono]);
    expect(mixed).toEqual(mono);
    expect(mixed).not.toBe(mono);
    expect(mixToMono([])).toEqual(new Float32Array(0));
  });
});

describe('readWavFile', () => {
  it('reads a file and reports a missing one as E_FILE_NOT_FOUND', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-wav-'));
    try {
      const audio: WavAudio = { sampleRateHz: 16000, channels: [pcm16Channel(100, 1)], encoding: 'pcm16' };
      writeFileSync(join(dir, 'a.wav'), writeWav(audio));
      await expect(readWavFile(join(dir, 'a.wav'))).resolves.toEqual(audio);
      await expect(readWavFile(join(dir, 'missing.wav'))).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
      writeFileSync(join(dir, 'bad.wav'), 'hello world, not audio');
      await expect(readWavFile(join(dir, 'bad.wav'))).rejects.toMatchObject({
        code: 'E_WAV_INVALID',
        message: expect.stringContaining('bad.wav: Not a WAV file'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
