// Opus encoding of outbound speech frames. `@evan/opus` ships libopus prebuilt (N-API binaries for the
// usual platforms, a WebAssembly build as fallback) and runs no install script, so installing Earshot
// never downloads or compiles a codec.
import { Encoder } from '@evan/opus';

/** Opus's RTP clock (RFC 7587) and the rate frames are encoded at. */
export const OPUS_ENCODE_RATE_HZ = 48_000;

export interface OpusFrameEncoderOptions {
  bitrateBps: number;
  /** Samples per frame at 48 kHz (960 = 20 ms). */
  frameSamples: number;
}

/** One call's encoder (Opus keeps state between frames, so each stream has its own). */
export class OpusFrameEncoder {
  private readonly encoder: Encoder;

  constructor(private readonly opts: OpusFrameEncoderOptions) {
    // 'voip' tunes libopus for speech (the only thing sent here).
    this.encoder = new Encoder({ channels: 1, sample_rate: OPUS_ENCODE_RATE_HZ, application: 'voip' });
    this.encoder.bitrate = opts.bitrateBps;
  }

  /** One frame of 48 kHz mono PCM in, one Opus packet out (a Buffer of its own). */
  encode(pcm48k: Int16Array): Buffer {
    if (pcm48k.length !== this.opts.frameSamples) {
      throw new RangeError(`an Opus frame is ${this.opts.frameSamples} samples, got ${pcm48k.length}`);
    }
    // Copy: the native binding returns a view of a buffer it reuses for the next frame.
    return Buffer.from(this.encoder.encode(new Uint8Array(pcm48k.buffer, pcm48k.byteOffset, pcm48k.byteLength)));
  }

  close(): void {
    // The WebAssembly build frees its memory on drop(); the native one is released by the GC.
    (this.encoder as { drop?: () => void }).drop?.();
  }
}
