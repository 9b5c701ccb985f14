import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  aLawToLinear,
  decodeALaw,
  decodeMuLaw,
  encodeALaw,
  encodeMuLaw,
  linearToALaw,
  linearToMuLaw,
  muLawToLinear,
} from '../../../src/audio/g711.ts';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

function decodedInt16(decoded: Float32Array): number[] {
  return Array.from(decoded, (value) => value * 32768);
}

/** Decodes all 256 codes with sox (an independent G.711 implementation) to int16. */
function soxDecode(encoding: 'mu-law' | 'a-law'): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-g711-'));
  try {
    writeFileSync(join(dir, 'codes.raw'), ALL_CODES);
    execFileSync('sox', [
      '-D',
      '-t',
      'raw',
      '-r',
      '8000',
      '-e',
      encoding,
      '-b',
      '8',
      '-c',
      '1',
      join(dir, 'codes.raw'),
      '-t',
      'raw',
      '-e',
      'signed-integer',
      '-b',
      '16',
      join(dir, 'linear.raw'),
    ]);
    const bytes = readFileSync(join(dir, 'linear.raw'));
    return Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('G.711 decoding tables', () => {
  it('mu-law: values of ITU-T G.711 table 2a (14-bit values x 4)', () => {
    const codes = new Uint8Array([0xff, 0x7f, 0x00, 0x80, 0xfe, 0x7e, 0xf0, 0xef, 0x6f, 0x8f, 0x90]);
    // +-0; -+8031; 2; -2; 30 (end of segment 0); 33 (start of segment 1); -33; 4191 (start of the last
    // segment); 3999 (end of the one before).
    expect(decodedInt16(decodeMuLaw(codes))).toEqual([0, 0, -32124, 32124, 8, -8, 120, 132, -132, 16764, 15996]);
  });

  it('A-law: values of ITU-T G.711 table 1a (13-bit values x 8)', () => {
    const codes = new Uint8Array([0xd5, 0x55, 0xd4, 0xc5, 0xaa, 0x2a, 0x45, 0xda, 0xd3]);
    // 1; -1; 3; 33 (start of segment 1); 4032 (maximum); -4032; -33; 31 (end of segment 0); 13 (2 * 6 + 1).
    expect(decodedInt16(decodeALaw(codes))).toEqual([8, -8, 24, 264, 32256, -32256, -264, 248, 104]);
  });

  it('mu-law and A-law tables equal sox for all 256 codes', () => {
    expect(decodedInt16(decodeMuLaw(ALL_CODES))).toEqual(soxDecode('mu-law'));
    expect(decodedInt16(decodeALaw(ALL_CODES))).toEqual(soxDecode('a-law'));
  });

  it('tables are odd-symmetric and strictly monotonic within each sign', () => {
    for (const decode of [muLawToLinear, aLawToLinear]) {
      const positive = Array.from(ALL_CODES, decode)
        .filter((v) => v > 0)
        .sort((a, b) => a - b);
      const negative = Array.from(ALL_CODES, decode)
        .filter((v) => v < 0)
        .map((v) => -v)
        .sort((a, b) => a - b);
      expect(negative).toEqual(positive);
      expect(new Set(positive).size).toBe(positive.length);
    }
  });
});

describe('G.711 encoding', () => {
  it('re-encodes every decoded code to itself (mu-law -0 0x7F becomes +0 0xFF)', () => {
    for (let code = 0; code < 256; code++) {
      expect(linearToALaw(aLawToLinear(code))).toBe(code);
      expect(linearToMuLaw(muLawToLinear(code))).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('known reference encodings (ITU-T G.191 ulaw_compress / alaw_compress)', () => {
    expect([0, -1, 32767, -32768, 8, 4, 3].map(linearToMuLaw)).toEqual([0xff, 0x7f, 0x80, 0x00, 0xfe, 0xfe, 0xff]);
    expect([0, -1, 32767, -32768, 16, 15].map(linearToALaw)).toEqual([0xd5, 0x55, 0xaa, 0x2a, 0xd4, 0xd5]);
  });

  it('every int16 value encodes to one of the two reconstruction levels around it', () => {
    for (const [encode, decode] of [
      [linearToMuLaw, muLawToLinear],
      [linearToALaw, aLawToLinear],
    ] as const) {
      const levels = [...new Set(Array.from(ALL_CODES, decode))].sort((a, b) => a - b);
      for (let value = -32768; value <= 32767; value++) {
        const decoded = decode(encode(value));
        let above = levels.findIndex((level) => level >= value);
        if (above === -1) above = levels.length - 1;
        const candidates = [levels[Math.max(0, above - 1)], levels[above]];
        if (!candidates.includes(decoded)) throw new Error(`${value} -> ${decoded}, expected one of ${candidates}`);
      }
    }
  });

  it('float encoders round-trip through the decoders at the reconstruction levels', () => {
    const muLevels = decodeMuLaw(ALL_CODES);
    expect(decodeMuLaw(encodeMuLaw(muLevels))).toEqual(muLevels);
    const aLevels = decodeALaw(ALL_CODES);
    expect(decodeALaw(encodeALaw(aLevels))).toEqual(aLevels);
    expect(Array.from(encodeMuLaw(new Float32Array([2, -2])))).toEqual([0x80, 0x00]); // clamped
  });
});
