// Compressed audio containers decoded in WebAssembly (no native build, no install-time download): MP3
// (mpg123), FLAC, Ogg Vorbis and Ogg Opus. M4A/AAC and anything else has no maintained WebAssembly decoder
// on npm, so audio_file.ts hands those to ffmpeg when it is on the PATH.
import { EarshotError } from '../errors.ts';

export type AudioContainer = 'wav' | 'mp3' | 'flac' | 'ogg-vorbis' | 'ogg-opus' | 'mp4' | 'unknown';

export interface DecodedAudio {
  sampleRateHz: number;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
}

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/** Which container the bytes hold, from their magic numbers (never the file name). */
export function sniffContainer(bytes: Uint8Array): AudioContainer {
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE') return 'wav';
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'fLaC') return 'flac';
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'OggS') return sniffOgg(bytes);
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') return 'mp4';
  if (bytes.length >= 3 && ascii(bytes, 0, 3) === 'ID3') return 'mp3';
  // An MPEG audio frame header: 11 sync bits, then a layer that is not "reserved".
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0 && (bytes[1] & 0x06) !== 0) return 'mp3';
  return 'unknown';
}

function sniffOgg(bytes: Uint8Array): AudioContainer {
  // The first page's packet names its codec within the first 64 bytes.
  const head = ascii(bytes, 0, Math.min(bytes.length, 64));
  if (head.includes('OpusHead')) return 'ogg-opus';
  if (head.includes('vorbis')) return 'ogg-vorbis';
  return 'unknown';
}

interface WasmDecoder {
  ready: Promise<void>;
  free: () => void | Promise<void>;
}

type DecodeResult = { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number; errors: unknown[] };

async function decodeWith<D extends WasmDecoder>(
  decoder: D,
  run: (d: D) => DecodeResult | Promise<DecodeResult>,
  label: string,
): Promise<DecodedAudio> {
  await decoder.ready;
  try {
    const result = await run(decoder);
    if (result.samplesDecoded === 0 || result.channelData.length === 0) {
      throw new EarshotError('E_AUDIO_UNREADABLE', `the ${label} data holds no decodable audio`);
    }
    return {
      sampleRateHz: result.sampleRate,
      channels: result.channelData.map((c) => c.subarray(0, result.samplesDecoded)),
    };
  } finally {
    await decoder.free();
  }
}

/** Decodes a compressed container; throws E_AUDIO_UNREADABLE when the bytes are not what they claim. */
export async function decodeCompressed(
  bytes: Uint8Array,
  container: 'mp3' | 'flac' | 'ogg-vorbis' | 'ogg-opus',
): Promise<DecodedAudio> {
  try {
    switch (container) {
      case 'mp3': {
        const { MPEGDecoder } = await import('mpg123-decoder');
        return await decodeWith(new MPEGDecoder(), (d) => d.decode(bytes), 'MP3');
      }
      case 'flac': {
        const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
        return await decodeWith(new FLACDecoder(), (d) => d.decodeFile(bytes), 'FLAC');
      }
      case 'ogg-vorbis': {
        const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
        return await decodeWith(new OggVorbisDecoder(), (d) => d.decodeFile(bytes), 'Ogg Vorbis');
      }
      case 'ogg-opus': {
        const { OggOpusDecoder } = await import('ogg-opus-decoder');
        return await decodeWith(new OggOpusDecoder(), (d) => d.decodeFile(bytes), 'Ogg Opus');
      }
    }
  } catch (error) {
    if (error instanceof EarshotError) throw error;
    throw new EarshotError(
      'E_AUDIO_UNREADABLE',
      `the ${container} data cannot be decoded: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
