// Cuts a stream of arbitrarily sized sample chunks into fixed windows (e.g. Silero's 512 samples at 16 kHz).
import { EarshotError } from '../errors.ts';

export class FrameAccumulator {
  readonly windowSamples: number;
  private readonly pending: Float32Array; // the start of the next window
  private pendingSamples = 0;

  constructor(windowSamples: number) {
    if (!Number.isInteger(windowSamples) || windowSamples <= 0) {
      throw new EarshotError(
        'E_INTERNAL',
        `FrameAccumulator window must be a positive integer (got ${windowSamples}).`,
      );
    }
    this.windowSamples = windowSamples;
    this.pending = new Float32Array(windowSamples);
  }

  /** Adds samples; returns every window completed by them, in order, each a fresh array the caller owns. */
  push(samples: Float32Array): Float32Array[] {
    const windows: Float32Array[] = [];
    const size = this.windowSamples;
    let offset = 0;
    if (this.pendingSamples > 0) {
      const take = Math.min(size - this.pendingSamples, samples.length);
      this.pending.set(samples.subarray(0, take), this.pendingSamples);
      this.pendingSamples += take;
      offset = take;
      if (this.pendingSamples < size) return windows;
      windows.push(this.pending.slice());
      this.pendingSamples = 0;
    }
    for (; offset + size <= samples.length; offset += size) windows.push(samples.slice(offset, offset + size));
    if (offset < samples.length) {
      this.pending.set(samples.subarray(offset), 0);
      this.pendingSamples = samples.length - offset;
    }
    return windows;
  }

  get bufferedSamples(): number {
    return this.pendingSamples;
  }

  /** Returns the buffered samples of the incomplete window (fresh array, possibly empty) and clears them. */
  takeRemainder(): Float32Array {
    const remainder = this.pending.slice(0, this.pendingSamples);
    this.pendingSamples = 0;
    return remainder;
  }
}
