// ITU-T G.711 mu-law and A-law. Decoding uses the exact 256-entry reconstruction tables of the standard
// (mu-law 0x00 -> -32124, A-law 0xD5 -> +8; identical to sox's tables); the encoders exist mostly to produce
// test fixtures and follow the ITU-T G.191 reference implementation bit for bit.
import { floatSampleToInt16 } from './pcm.ts';

const INT16_FULL_SCALE = 32768;
const MU_LAW_BIAS = 0x84; // 132: shifts the mu-law segments so that each starts at a power of two

/** mu-law code -> 16-bit linear value, per G.711 table 2a. */
export function muLawToLinear(code: number): number {
  const inverted = ~code & 0xff; // codes are transmitted with all bits inverted
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const magnitude = (((mantissa << 3) + MU_LAW_BIAS) << exponent) - MU_LAW_BIAS;
  return inverted & 0x80 ? 0 - magnitude : magnitude; // 0 - x: code 0x7F is +0, not -0
}

/** A-law code -> 16-bit linear value, per G.711 table 1a (13-bit values scaled by 8). */
export function aLawToLinear(code: number): number {
  const toggled = (code ^ 0x55) & 0xff; // even bits are inverted on the line
  const segment = (toggled >> 4) & 0x07;
  let magnitude = (toggled & 0x0f) << 4;
  if (segment === 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return toggled & 0x80 ? magnitude : -magnitude;
}

function buildTable(decode: (code: number) => number): Float32Array {
  const table = new Float32Array(256);
  for (let code = 0; code < 256; code++) table[code] = decode(code) / INT16_FULL_SCALE;
  return table;
}

// 1 KiB each, built once per process; decoding is then one lookup per byte.
const MU_LAW_TABLE = buildTable(muLawToLinear);
const A_LAW_TABLE = buildTable(aLawToLinear);

export function decodeMuLaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MU_LAW_TABLE[bytes[i]];
  return out;
}

export function decodeALaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = A_LAW_TABLE[bytes[i]];
  return out;
}

/** 16-bit linear value -> mu-law code, as ulaw_compress of the ITU-T G.191 reference software. */
export function linearToMuLaw(value: number): number {
  // One's complement for negatives keeps the decision levels symmetric around -0.5.
  let magnitude = ((value < 0 ? ~value : value) >> 2) + 33; // 14-bit magnitude plus the segment bias
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  let segment = 1;
  for (let rest = magnitude >> 6; rest !== 0; rest >>= 1) segment++;
  const code = ((8 - segment) << 4) | (0x0f - ((magnitude >> segment) & 0x0f));
  return value >= 0 ? code | 0x80 : code;
}

/** 16-bit linear value -> A-law code, as alaw_compress of the ITU-T G.191 reference software. */
export function linearToALaw(value: number): number {
  let magnitude = (value < 0 ? ~value : value) >> 4; // 12-bit magnitude, 0..2047
  if (magnitude > 15) {
    let exponent = 1;
    while (magnitude > 16 + 15) {
      magnitude >>= 1;
      exponent++;
    }
    magnitude = magnitude - 16 + (exponent << 4);
  }
  if (value >= 0) magnitude |= 0x80;
  return magnitude ^ 0x55;
}

export function encodeMuLaw(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMuLaw(floatSampleToInt16(samples[i]));
  return out;
}

export function encodeALaw(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToALaw(floatSampleToInt16(samples[i]));
  return out;
}
