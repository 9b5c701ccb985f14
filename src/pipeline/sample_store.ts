/**
 * Keeps the recent part of a sample stream addressed by absolute sample index, so utterances can be
 * sliced out after the fact. Memory is bounded by what the caller still needs (`discardBefore`), which
 * for a turn is at most the utterance cap plus the prefix padding.
 */
export class SampleStore {
  private buffer: Float32Array;
  private baseSample = 0; // absolute index of buffer[0]
  private length = 0;

  constructor(initialCapacitySamples = 16_000) {
    this.buffer = new Float32Array(initialCapacitySamples);
  }

  /** Absolute index one past the last stored sample. */
  get endSample(): number {
    return this.baseSample + this.length;
  }

  get firstSample(): number {
    return this.baseSample;
  }

  append(samples: Float32Array): void {
    if (this.length + samples.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.buffer.length * 2, this.length + samples.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.length);
    this.length += samples.length;
  }

  /** Copies [start, end) out; the range must still be stored. */
  slice(startSample: number, endSample: number): Float32Array {
    if (startSample < this.baseSample || endSample > this.endSample || endSample < startSample) {
      throw new RangeError(
        `samples [${startSample}, ${endSample}) are not stored (have [${this.baseSample}, ${this.endSample}))`,
      );
    }
    return this.buffer.slice(startSample - this.baseSample, endSample - this.baseSample);
  }

  /** Forgets everything before `sample`. Compacts lazily so a steady stream costs O(1) per sample. */
  discardBefore(sample: number): void {
    const drop = Math.min(Math.max(0, sample - this.baseSample), this.length);
    if (drop === 0) return;
    this.baseSample += drop;
    this.length -= drop;
    this.buffer.copyWithin(0, drop, drop + this.length);
  }
}
