import { OPUS_RTP_CLOCK_HZ, OUTPUT_RATE_HZ, opusPacketDurationTicks } from './opus_packet_decoder.ts';
import { ReorderBuffer, type OrderedPacket, type RtpAudioPacket } from './reorder_buffer.ts';

const TICKS_PER_SAMPLE = OPUS_RTP_CLOCK_HZ / OUTPUT_RATE_HZ;
const DEFAULT_PACKET_TICKS = (OPUS_RTP_CLOCK_HZ * 20) / 1000;

/** What the input needs from a decoder (OpusPacketDecoder; tests substitute a fake). */
export interface PacketDecoder {
  /** 16 kHz samples, or null when the packet cannot be decoded. */
  decode(payload: Uint8Array): Float32Array | null;
  /** Exactly `samples16k` samples of concealment. */
  conceal(samples16k: number): Float32Array;
  free(): void;
}

export interface RtpOpusInputOptions {
  decoder: PacketDecoder;
  /** Packets held for reordering (see ReorderBuffer). */
  depthPackets: number;
  /** Longest wait for a missing packet when nothing else arrives, in ms. */
  maxWaitMs: number;
  /** Longest timeline gap that is filled, in ms; larger jumps start a new timeline. */
  maxConcealMs: number;
  /** Receives the decoded audio, 16 kHz mono, in order and gap-free. */
  onPcm16k: (samples16k: Float32Array) => void;
}

export interface RtpOpusInputStats {
  packets: number;
  /** Packets never received (concealed). */
  lost: number;
  reordered: number;
  late: number;
  duplicates: number;
  decodeErrors: number;
  decodedSamples: number;
  concealedSamples: number;
  /** Time spent in libopus (decode and concealment), in ms. */
  decodeMs: number;
}

/**
 * The microphone path of a call: RTP packets (any order) -> reorder -> Opus decode -> 16 kHz samples whose
 * count follows the RTP clock. A lost packet, an undecodable one, or a timestamp gap (DTX) becomes
 * concealment of the missing duration, so audio offsets the session reports stay on the sender's clock.
 */
export class RtpOpusInput {
  private readonly reorder: ReorderBuffer;
  private last: { extendedSeq: number; endTimestamp: number; ticks: number } | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counters = {
    packets: 0,
    lost: 0,
    decodeErrors: 0,
    decodedSamples: 0,
    concealedSamples: 0,
    decodeMs: 0,
  };

  constructor(private readonly opts: RtpOpusInputOptions) {
    this.reorder = new ReorderBuffer(opts.depthPackets);
  }

  get stats(): RtpOpusInputStats {
    const { reordered, late, duplicates } = this.reorder.stats;
    return { ...this.counters, reordered, late, duplicates };
  }

  push(packet: RtpAudioPacket): void {
    if (this.closed) return;
    this.counters.packets++;
    this.process(this.reorder.push(packet));
    this.armWaitTimer();
  }

  /** Releases packets still waiting for a missing predecessor (also done by the wait timer). */
  flush(): void {
    if (this.closed) return;
    this.clearWaitTimer();
    this.process(this.reorder.flush());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearWaitTimer();
    this.opts.decoder.free();
  }

  private process(packets: OrderedPacket[]): void {
    for (const packet of packets) this.processOne(packet);
  }

  private processOne(packet: OrderedPacket): void {
    const last = this.last;
    if (last) {
      const seqGap = packet.extendedSeq - last.extendedSeq - 1;
      // Signed 32-bit distance on the RTP clock from where the previous packet's audio ended.
      const gapTicks = (packet.timestamp - last.endTimestamp) | 0;
      const maxTicks = (this.opts.maxConcealMs * OPUS_RTP_CLOCK_HZ) / 1000;
      let fillTicks = 0;
      if (gapTicks > 0 && gapTicks <= maxTicks) fillTicks = gapTicks;
      else if (seqGap > 0 && (gapTicks <= 0 || gapTicks > maxTicks)) {
        // Timestamps disagree with sequence numbers (a sender bug or restart): trust the sequence.
        fillTicks = Math.min(seqGap * last.ticks, maxTicks);
      }
      if (seqGap > 0) this.counters.lost += seqGap;
      if (fillTicks > 0) {
        const samples = Math.round(fillTicks / TICKS_PER_SAMPLE);
        // Lost packets get libopus concealment; a gap with no missing packet is DTX: silence.
        this.emitConcealment(samples, seqGap > 0);
      }
    }
    const started = performance.now();
    const decoded = this.opts.decoder.decode(packet.payload);
    this.counters.decodeMs += performance.now() - started;
    let ticks: number;
    if (decoded) {
      ticks = decoded.length * TICKS_PER_SAMPLE;
      this.counters.decodedSamples += decoded.length;
      this.opts.onPcm16k(decoded);
    } else {
      this.counters.decodeErrors++;
      ticks = opusPacketDurationTicks(packet.payload) ?? last?.ticks ?? DEFAULT_PACKET_TICKS;
      this.emitConcealment(Math.round(ticks / TICKS_PER_SAMPLE), true);
    }
    this.last = { extendedSeq: packet.extendedSeq, endTimestamp: (packet.timestamp + ticks) >>> 0, ticks };
  }

  private emitConcealment(samples16k: number, plc: boolean): void {
    if (samples16k <= 0) return;
    const started = performance.now();
    const samples = plc ? this.opts.decoder.conceal(samples16k) : new Float32Array(samples16k);
    this.counters.decodeMs += performance.now() - started;
    this.counters.concealedSamples += samples.length;
    this.opts.onPcm16k(samples);
  }

  private armWaitTimer(): void {
    if (this.reorder.pendingCount === 0) {
      this.clearWaitTimer();
      return;
    }
    if (this.waitTimer) return;
    this.waitTimer = setTimeout(() => {
      this.waitTimer = null;
      this.flush();
    }, this.opts.maxWaitMs);
    this.waitTimer.unref();
  }

  private clearWaitTimer(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
  }
}
