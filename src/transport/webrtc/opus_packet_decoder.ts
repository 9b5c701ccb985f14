import { OpusDecoder } from 'opus-decoder';

export const OUTPUT_RATE_HZ = 16_000;
/** RTP clock of Opus (RFC 7587): always 48 kHz whatever the coded bandwidth. */
export const OPUS_RTP_CLOCK_HZ = 48_000;
const PLC_FRAME_MS = 20;
const PLC_FRAME_SAMPLES = (OUTPUT_RATE_HZ * PLC_FRAME_MS) / 1000;
/** libopus PLC fades to silence within ~100 ms; past that, plain zeros cost nothing and sound the same. */
const MAX_PLC_MS = 120;

/**
 * Opus (WebAssembly libopus) decoding straight to 16 kHz mono, with packet-loss concealment of an exact
 * length. Concealment feeds libopus a packet that is only a TOC byte: libopus then conceals exactly the
 * TOC's frame duration (an empty packet would conceal a fixed 120 ms), so the sample clock stays true.
 */
export class OpusPacketDecoder {
  private lastToc: number | null = null;
  private freed = false;

  private constructor(private readonly decoder: OpusDecoder<16000>) {}

  static async create(): Promise<OpusPacketDecoder> {
    const decoder = new OpusDecoder({ sampleRate: OUTPUT_RATE_HZ, channels: 1 });
    await decoder.ready;
    return new OpusPacketDecoder(decoder);
  }

  /** Decoded samples at 16 kHz, or null when libopus rejects the packet (the caller conceals it). */
  decode(payload: Uint8Array): Float32Array | null {
    if (this.freed || payload.length === 0) return null;
    const result = this.decoder.decodeFrame(payload);
    if (result.samplesDecoded === 0 || result.errors.length > 0) return null;
    this.lastToc = payload[0];
    // The decoder reuses its output buffer: copy before the next call overwrites it.
    return result.channelData[0].slice(0, result.samplesDecoded);
  }

  /** `samples16k` samples of concealment: libopus PLC (extrapolated from the last packet) then silence. */
  conceal(samples16k: number): Float32Array {
    const out = new Float32Array(Math.max(0, samples16k));
    if (this.freed || this.lastToc === null) return out;
    const plcToc = toc20Ms(this.lastToc);
    const plcSamples = Math.min(out.length, (OUTPUT_RATE_HZ * MAX_PLC_MS) / 1000);
    let filled = 0;
    while (filled + PLC_FRAME_SAMPLES <= plcSamples) {
      const result = this.decoder.decodeFrame(new Uint8Array([plcToc]));
      if (result.samplesDecoded !== PLC_FRAME_SAMPLES) break;
      out.set(result.channelData[0].subarray(0, PLC_FRAME_SAMPLES), filled);
      filled += PLC_FRAME_SAMPLES;
    }
    return out;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.decoder.free();
  }
}

/** Duration of one Opus packet's audio in 48 kHz RTP ticks, from its TOC and frame count (RFC 6716 3.1). */
export function opusPacketDurationTicks(payload: Uint8Array): number | null {
  if (payload.length === 0) return null;
  const toc = payload[0];
  const frameTicks = frameTicksOfConfig(toc >> 3);
  switch (toc & 0x3) {
    case 0:
      return frameTicks;
    case 1:
    case 2:
      return 2 * frameTicks;
    default:
      return payload.length < 2 ? null : (payload[1] & 0x3f) * frameTicks;
  }
}

function frameTicksOfConfig(config: number): number {
  const ms =
    config < 12 ? [10, 20, 40, 60][config % 4] : config < 16 ? [10, 20][config % 2] : [2.5, 5, 10, 20][config % 4];
  return (ms * OPUS_RTP_CLOCK_HZ) / 1000;
}

/** The TOC byte of a single 20 ms frame in the same mode, bandwidth and channel count as `toc`. */
function toc20Ms(toc: number): number {
  const config = toc >> 3;
  const config20 = config < 12 ? (config & ~3) | 1 : config < 16 ? (config & ~1) | 1 : (config & ~3) | 3;
  return (config20 << 3) | (toc & 0x4);
}
