// WAV (RIFF/WAVE) reading and writing. Read: 16-, 24- and 32-bit PCM, 32- and 64-bit IEEE float, and
// G.711 mu-law / A-law (call-centre recordings, format tags 7 and 6). Written: PCM16, float32 and G.711.
// Everything else is rejected with a message that says what was found and how to convert it.
import { readFile } from 'node:fs/promises';
import { EarshotError } from '../errors.ts';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from './g711.ts';
import { floatSampleToInt16 } from './pcm.ts';

export type WavEncoding = 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64' | 'mulaw' | 'alaw';

export interface WavAudio {
  sampleRateHz: number;
  /** One array per channel, samples in [-1, 1) (integer PCM is scaled by 1 / full scale, G.711 decoded by its tables). */
  channels: Float32Array[];
  encoding: WavEncoding;
}

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const BYTES_PER_SAMPLE: Record<WavEncoding, number> = {
  pcm16: 2,
  pcm24: 3,
  pcm32: 4,
  float32: 4,
  float64: 8,
  mulaw: 1,
  alaw: 1,
};
const FORMAT_EXTENSIBLE = 0xfffe;
const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
const FMT_BASE_BYTES = 16;
const FMT_EXTENSIBLE_BYTES = 40;
// KSDATAFORMAT_SUBTYPE_* GUIDs are {format code}-0000-0010-8000-00AA00389B71; bytes 2..15 as stored.
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law (G.711)',
  0x0007: 'mu-law (G.711)',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0055: 'MPEG Layer 3',
};

const CONVERT_HINT = 'convert to 16-bit PCM or float32 (e.g. `sox in.wav -e signed-integer -b 16 out.wav`)';
const PCM_BITS: Record<number, WavEncoding> = { 16: 'pcm16', 24: 'pcm24', 32: 'pcm32' };
const FLOAT_BITS: Record<number, WavEncoding> = { 32: 'float32', 64: 'float64' };

function fourCc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}

/** Printable form of a 4-byte tag for error messages. */
function describeTag(bytes: Uint8Array, offset: number): string {
  const available = bytes.subarray(offset, offset + 4);
  return JSON.stringify(String.fromCharCode(...available));
}

/** Chunk ids are four printable ASCII characters. */
function isChunkId(bytes: Uint8Array, offset: number): boolean {
  if (offset + 4 > bytes.length) return false;
  for (let i = offset; i < offset + 4; i++) if (bytes[i] < 0x20 || bytes[i] > 0x7e) return false;
  return true;
}

interface FmtChunk {
  formatCode: number; // after resolving WAVE_FORMAT_EXTENSIBLE to its subformat
  channelCount: number;
  sampleRateHz: number;
  bitsPerSample: number;
}

function parseFmt(view: DataView, offset: number, size: number): FmtChunk {
  if (size < FMT_BASE_BYTES) {
    throw new EarshotError('E_WAV_INVALID', `WAV fmt chunk is ${size} bytes; at least ${FMT_BASE_BYTES} are required.`);
  }
  let formatCode = view.getUint16(offset, true);
  const channelCount = view.getUint16(offset + 2, true);
  const sampleRateHz = view.getUint32(offset + 4, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (formatCode === FORMAT_EXTENSIBLE) {
    if (size < FMT_EXTENSIBLE_BYTES) {
      throw new EarshotError(
        'E_WAV_INVALID',
        `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes; ${FMT_EXTENSIBLE_BYTES} are required.`,
      );
    }
    const guidOffset = offset + 24;
    formatCode = view.getUint16(guidOffset, true);
    for (let i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
      if (view.getUint8(guidOffset + 2 + i) !== SUBFORMAT_GUID_TAIL[i]) {
        throw new EarshotError(
          'E_WAV_UNSUPPORTED',
          `WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID is not supported; ${CONVERT_HINT}.`,
        );
      }
    }
  }
  return { formatCode, channelCount, sampleRateHz, bitsPerSample };
}

function checkEncoding(fmt: FmtChunk): WavEncoding {
  if (fmt.formatCode === FORMAT_PCM) {
    const encoding = PCM_BITS[fmt.bitsPerSample];
    if (encoding) return encoding;
    throw new EarshotError('E_WAV_UNSUPPORTED', `${fmt.bitsPerSample}-bit PCM is not supported; ${CONVERT_HINT}.`);
  }
  if (fmt.formatCode === FORMAT_IEEE_FLOAT) {
    const encoding = FLOAT_BITS[fmt.bitsPerSample];
    if (encoding) return encoding;
    throw new EarshotError('E_WAV_UNSUPPORTED', `${fmt.bitsPerSample}-bit float is not supported; ${CONVERT_HINT}.`);
  }
  if (fmt.formatCode === FORMAT_MULAW || fmt.formatCode === FORMAT_ALAW) {
    if (fmt.bitsPerSample === 8) return fmt.formatCode === FORMAT_MULAW ? 'mulaw' : 'alaw';
    throw new EarshotError(
      'E_WAV_UNSUPPORTED',
      `${FORMAT_NAMES[fmt.formatCode]} WAV with ${fmt.bitsPerSample} bits per sample is not supported (G.711 is 8 bits); ${CONVERT_HINT}.`,
    );
  }
  const hex = `0x${fmt.formatCode.toString(16).padStart(4, '0')}`;
  const name = FORMAT_NAMES[fmt.formatCode];
  const found = name === undefined ? `WAV format ${hex}` : `${name} WAV (format ${hex})`;
  throw new EarshotError('E_WAV_UNSUPPORTED', `${found} is not supported; ${CONVERT_HINT}.`);
}

export function readWav(bytes: Uint8Array): WavAudio {
  if (bytes.length < RIFF_HEADER_BYTES) {
    throw new EarshotError(
      'E_WAV_INVALID',
      `Not a WAV file: only ${bytes.length} bytes, a RIFF/WAVE header needs ${RIFF_HEADER_BYTES}.`,
    );
  }
  const riff = fourCc(bytes, 0);
  if (riff === 'RIFX' || riff === 'RF64') {
    const what = riff === 'RIFX' ? 'Big-endian (RIFX) WAV' : 'RF64 WAV';
    throw new EarshotError('E_WAV_UNSUPPORTED', `${what} is not supported; ${CONVERT_HINT}.`);
  }
  if (riff !== 'RIFF' || fourCc(bytes, 8) !== 'WAVE') {
    throw new EarshotError(
      'E_WAV_INVALID',
      `Not a WAV file: expected "RIFF....WAVE", found ${describeTag(bytes, 0)}...${describeTag(bytes, 8)}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: FmtChunk | undefined;
  let offset = RIFF_HEADER_BYTES;
  // Chunks: 4-byte id, little-endian uint32 size, payload padded to an even length. Unknown chunks
  // (LIST, fact, cue, bext, ...) are skipped.
  while (offset + CHUNK_HEADER_BYTES <= bytes.length) {
    const id = fourCc(bytes, offset);
    const declaredSize = view.getUint32(offset + 4, true);
    const payloadOffset = offset + CHUNK_HEADER_BYTES;
    const availableSize = bytes.length - payloadOffset;
    if (id === 'fmt ') {
      if (declaredSize > availableSize) {
        throw new EarshotError(
          'E_WAV_INVALID',
          `WAV file is truncated inside its fmt chunk (${declaredSize} bytes declared, ${availableSize} present).`,
        );
      }
      fmt = parseFmt(view, payloadOffset, declaredSize);
    } else if (id === 'data') {
      if (fmt === undefined) throw new EarshotError('E_WAV_INVALID', 'WAV data chunk comes before any fmt chunk.');
      // WAVs streamed to a pipe declare a huge size (0xFFFFFFFF, 0x7FFFF000): use the bytes present.
      const dataSize = Math.min(declaredSize, availableSize);
      return decodeData(fmt, bytes.subarray(payloadOffset, payloadOffset + dataSize));
    }
    offset = payloadOffset + declaredSize;
    // RIFF pads odd-sized chunks to even length; some writers forget the pad byte, so only skip it when
    // the next chunk id does not start right away.
    if (declaredSize & 1 && !(isChunkId(bytes, offset) && !isChunkId(bytes, offset + 1))) offset += 1;
  }
  if (fmt === undefined) throw new EarshotError('E_WAV_INVALID', 'WAV file has no fmt chunk (truncated header?).');
  throw new EarshotError('E_WAV_INVALID', 'WAV file has no data chunk.');
}

function decodeData(fmt: FmtChunk, data: Uint8Array): WavAudio {
  const encoding = checkEncoding(fmt);
  if (fmt.channelCount === 0) throw new EarshotError('E_WAV_INVALID', 'WAV fmt chunk declares 0 channels.');
  if (fmt.sampleRateHz === 0) throw new EarshotError('E_WAV_INVALID', 'WAV fmt chunk declares a sample rate of 0 Hz.');
  const bytesPerSample = BYTES_PER_SAMPLE[encoding];
  const frameBytes = bytesPerSample * fmt.channelCount;
  const frameCount = Math.floor(data.length / frameBytes); // a partial last frame is dropped
  const interleaved = decodeInterleaved(encoding, data.subarray(0, frameCount * frameBytes));
  if (fmt.channelCount === 1) return { sampleRateHz: fmt.sampleRateHz, channels: [interleaved], encoding };
  const channels: Float32Array[] = [];
  for (let c = 0; c < fmt.channelCount; c++) {
    const channel = new Float32Array(frameCount);
    for (let i = 0, at = c; i < frameCount; i++, at += fmt.channelCount) channel[i] = interleaved[at];
    channels.push(channel);
  }
  return { sampleRateHz: fmt.sampleRateHz, channels, encoding };
}

/** All samples of the data chunk, still interleaved, as floats in [-1, 1) (float formats as stored). */
function decodeInterleaved(encoding: WavEncoding, data: Uint8Array): Float32Array {
  if (encoding === 'mulaw') return decodeMuLaw(data);
  if (encoding === 'alaw') return decodeALaw(data);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(data.length / BYTES_PER_SAMPLE[encoding]);
  switch (encoding) {
    case 'pcm16':
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
      break;
    case 'pcm24':
      // Little-endian 3-byte two's complement: the top byte is read signed.
      for (let i = 0, at = 0; i < out.length; i++, at += 3)
        out[i] = (view.getInt8(at + 2) * 65536 + view.getUint16(at, true)) / 8388608;
      break;
    case 'pcm32':
      for (let i = 0; i < out.length; i++) out[i] = view.getInt32(4 * i, true) / 2147483648;
      break;
    case 'float32':
    case 'float64':
      for (let i = 0; i < out.length; i++) {
        const sample = encoding === 'float32' ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
        // A NaN or infinity would silently poison every filter and model downstream (found by fuzzing).
        if (!Number.isFinite(sample)) {
          throw new EarshotError(
            'E_WAV_INVALID',
            `WAV ${encoding} data holds a non-finite sample (${sample}) at sample ${i} of the data: the file is corrupt.`,
          );
        }
        out[i] = sample;
      }
      break;
  }
  return out;
}

const WRITE_FORMAT: Record<WavEncoding, number> = {
  pcm16: FORMAT_PCM,
  pcm24: FORMAT_PCM,
  pcm32: FORMAT_PCM,
  float32: FORMAT_IEEE_FLOAT,
  float64: FORMAT_IEEE_FLOAT,
  mulaw: FORMAT_MULAW,
  alaw: FORMAT_ALAW,
};

/** Writes a canonical WAV: integer PCM (16-byte fmt), or IEEE float / G.711 (18-byte fmt plus a fact chunk). */
export function writeWav(audio: WavAudio): Uint8Array {
  const channelCount = audio.channels.length;
  if (channelCount === 0) throw new EarshotError('E_WAV_INVALID', 'Cannot write a WAV file with no channels.');
  const frameCount = audio.channels[0].length;
  if (audio.channels.some((channel) => channel.length !== frameCount)) {
    throw new EarshotError('E_WAV_INVALID', 'Cannot write a WAV file whose channels have different lengths.');
  }
  const encoding = audio.encoding;
  const isPcm = WRITE_FORMAT[encoding] === FORMAT_PCM;
  const bytesPerSample = BYTES_PER_SAMPLE[encoding];
  const frameBytes = bytesPerSample * channelCount;
  const dataBytes = frameBytes * frameCount;
  const fmtBytes = isPcm ? 16 : 18;
  const factBytes = isPcm ? 0 : CHUNK_HEADER_BYTES + 4;
  const headerBytes = RIFF_HEADER_BYTES + CHUNK_HEADER_BYTES + fmtBytes + factBytes + CHUNK_HEADER_BYTES;
  const out = new Uint8Array(headerBytes + dataBytes + (dataBytes & 1));
  const view = new DataView(out.buffer);
  const writeTag = (offset: number, tag: string): void => {
    for (let i = 0; i < 4; i++) out[offset + i] = tag.charCodeAt(i);
  };
  writeTag(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  writeTag(8, 'WAVE');
  let offset = RIFF_HEADER_BYTES;
  writeTag(offset, 'fmt ');
  view.setUint32(offset + 4, fmtBytes, true);
  view.setUint16(offset + 8, WRITE_FORMAT[encoding], true);
  view.setUint16(offset + 10, channelCount, true);
  view.setUint32(offset + 12, audio.sampleRateHz, true);
  view.setUint32(offset + 16, audio.sampleRateHz * frameBytes, true);
  view.setUint16(offset + 20, frameBytes, true);
  view.setUint16(offset + 22, bytesPerSample * 8, true);
  if (!isPcm) view.setUint16(offset + 24, 0, true); // cbSize: no extension
  offset += CHUNK_HEADER_BYTES + fmtBytes;
  if (!isPcm) {
    // Non-PCM formats carry a fact chunk with the frame count (WAVE spec, 1991 revision).
    writeTag(offset, 'fact');
    view.setUint32(offset + 4, 4, true);
    view.setUint32(offset + 8, frameCount, true);
    offset += factBytes;
  }
  writeTag(offset, 'data');
  view.setUint32(offset + 4, dataBytes, true);
  offset += CHUNK_HEADER_BYTES;
  if (encoding === 'mulaw' || encoding === 'alaw') {
    const encode = encoding === 'mulaw' ? encodeMuLaw : encodeALaw;
    const codes = audio.channels.map((channel) => encode(channel));
    for (let i = 0; i < frameCount; i++) for (let c = 0; c < channelCount; c++) out[offset++] = codes[c][i];
    return out;
  }
  for (let i = 0; i < frameCount; i++) {
    for (let c = 0; c < channelCount; c++, offset += bytesPerSample)
      writeSample(view, offset, encoding, audio.channels[c][i]);
  }
  return out;
}

function writeSample(view: DataView, offset: number, encoding: WavEncoding, sample: number): void {
  const clamped = Math.max(-1, Math.min(1, sample));
  switch (encoding) {
    case 'float32':
      return view.setFloat32(offset, sample, true);
    case 'float64':
      return view.setFloat64(offset, sample, true);
    case 'pcm24': {
      const value = Math.max(-8388608, Math.min(8388607, Math.round(clamped * 8388608)));
      view.setUint16(offset, value & 0xffff, true);
      return view.setInt8(offset + 2, value >> 16);
    }
    case 'pcm32':
      return view.setInt32(offset, Math.max(-2147483648, Math.min(2147483647, Math.round(clamped * 2147483648))), true);
    default:
      return view.setInt16(offset, floatSampleToInt16(sample), true);
  }
}

/** Average of the channels (a fresh array even for mono input). */
export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  const length = channels[0].length;
  if (channels.some((channel) => channel.length !== length)) {
    throw new EarshotError('E_INTERNAL', 'mixToMono: channels have different lengths.');
  }
  if (channels.length === 1) return channels[0].slice();
  const out = new Float32Array(length);
  const scale = 1 / channels.length;
  for (let i = 0; i < length; i++) {
    let sum = 0;
    for (let c = 0; c < channels.length; c++) sum += channels[c][i];
    out[i] = sum * scale;
  }
  return out;
}

export async function readWavFile(path: string): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new EarshotError('E_FILE_NOT_FOUND', `WAV file not found: ${path}`, { cause: error });
    // Any other failure to read (a directory, no permission, over Node's 2 GiB readFile limit) is still a
    // file the user named that cannot be read: a stable code, not a stack trace from the CLI.
    if (code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new EarshotError(
        'E_WAV_INVALID',
        `${path}: the file is larger than 2 GiB, the most that can be read at once; split it (e.g. \`sox in.wav part.wav trim 0 3600 : newfile : restart\`).`,
        { cause: error },
      );
    }
    if (typeof code === 'string')
      throw new EarshotError('E_WAV_INVALID', `${path}: the file cannot be read (${(error as Error).message}).`, {
        cause: error,
      });
    throw error;
  }
  try {
    return readWav(bytes);
  } catch (error) {
    // Name the file: the CLI prints this message as is.
    if (error instanceof EarshotError)
      throw new EarshotError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
