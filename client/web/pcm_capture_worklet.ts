/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// AudioWorklet processor for the WebSocket transport: microphone audio at the context's rate (usually
// 48 kHz) -> 16 kHz mono PCM16, posted to the page in 20 ms frames (320 samples, 640 bytes) that the
// page sends as binary WebSocket frames. The resampler is a windowed-sinc interpolator (Hann, 16 taps
// each side, cutoff 0.45 of the output rate) so speech above 7.2 kHz does not alias into the band the
// VAD and the model listen to. Costs ~32 multiply-adds per output sample: ~0.5 M/s, negligible.

// AudioWorkletGlobalScope names (not in lib.dom).
declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessorBase): void;
declare class AudioWorkletProcessorBase {
  readonly port: MessagePort;
}
const Processor = (globalThis as unknown as { AudioWorkletProcessor: typeof AudioWorkletProcessorBase })
  .AudioWorkletProcessor;

const OUTPUT_RATE_HZ = 16_000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const HALF_TAPS = 16;

class PcmCaptureProcessor extends Processor {
  private readonly step = sampleRate / OUTPUT_RATE_HZ;
  private readonly cutoff = (0.45 * OUTPUT_RATE_HZ) / sampleRate; // cycles per input sample
  private readonly halfWidth = Math.ceil(HALF_TAPS * Math.max(1, this.step));
  /** Input not yet fully used; `position` is the next output's fractional index into it. */
  private input = new Float32Array(0);
  private position = this.halfWidth;
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private frameFill = 0;

  constructor() {
    super();
    // Start with silent history so the first output has full support on the left.
    this.input = new Float32Array(this.halfWidth);
  }

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel || channel.length === 0) return true;
    const merged = new Float32Array(this.input.length + channel.length);
    merged.set(this.input);
    merged.set(channel, this.input.length);
    this.input = merged;
    if (this.step === 1) {
      for (let i = this.halfWidth; i < merged.length; i++) this.emit(merged[i]);
      this.input = merged.slice(merged.length - this.halfWidth);
      return true;
    }
    while (this.position + this.halfWidth < merged.length) {
      this.emit(this.interpolate(merged, this.position));
      this.position += this.step;
    }
    const keepFrom = Math.floor(this.position) - this.halfWidth;
    this.input = merged.slice(keepFrom);
    this.position -= keepFrom;
    return true;
  }

  private interpolate(x: Float32Array, t: number): number {
    const center = Math.floor(t);
    let sum = 0;
    for (let k = center - this.halfWidth + 1; k <= center + this.halfWidth; k++) {
      const d = t - k;
      const window = 0.5 * (1 + Math.cos((Math.PI * d) / this.halfWidth));
      const arg = 2 * this.cutoff * d;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      sum += x[k] * 2 * this.cutoff * sinc * window;
    }
    return sum;
  }

  private emit(sample: number): void {
    const clamped = Math.max(-1, Math.min(1, sample));
    this.frame[this.frameFill++] = clamped < 0 ? Math.round(clamped * 0x8000) : Math.round(clamped * 0x7fff);
    if (this.frameFill === FRAME_SAMPLES) {
      const out = this.frame.slice();
      this.port.postMessage(out.buffer, [out.buffer]);
      this.frameFill = 0;
    }
  }
}

registerProcessor('earshot-pcm-capture', PcmCaptureProcessor);
