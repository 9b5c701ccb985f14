// Streaming anti-aliased resampler (windowed-sinc polyphase, rational ratio).
//
// Definition (what the tests pin down): with input x[j] at time j / inputRate, zero outside [0, N), output
// sample k sits at time k / outputRate, i.e. at input position t_k = k * in / out, and equals
// sum_j x[j] * g(t_k - j) for a symmetric (zero-phase) kernel g. The filter delay is therefore compensated:
// a click at input time t peaks at output index round(t * out). A stream of N input samples yields exactly
// resampledLength(N) = Math.round(N * out / in) output samples in total (push outputs + flush).
//
// push() emits output k as soon as every input it depends on has arrived (halfTaps input samples of
// look-ahead), and computes it with the same arithmetic in the same order as a one-shot call, so any
// chunking gives bit-identical output.
import { EarshotError } from '../errors.ts';
import { firKernel, type FirKernel, type KernelPosition } from './fir_kernel.ts';
import { getPolyphaseFilter, type PolyphaseFilter } from './polyphase_filter.ts';

export const SUPPORTED_INPUT_RATES_HZ: readonly number[] = Object.freeze([
  8000, 16000, 22050, 24000, 32000, 44100, 48000,
]);

const DEFAULT_OUTPUT_RATE_HZ = 16_000;
const INITIAL_BUFFER_SAMPLES = 4096;
const MAX_BLOCK_SAMPLES = 16_384; // bounds the working buffer to ~17k samples whatever the push size

function assertSupportedRate(rateHz: number, role: 'input' | 'output'): void {
  if (!SUPPORTED_INPUT_RATES_HZ.includes(rateHz)) {
    throw new EarshotError(
      'E_UNSUPPORTED_FORMAT',
      `Unsupported ${role} sample rate ${rateHz} Hz; supported rates are ${SUPPORTED_INPUT_RATES_HZ.join(', ')} Hz.`,
    );
  }
}

/** Total output samples for inputSamples input samples: Math.round(inputSamples * out / in), halves up. */
export function resampledLength(
  inputSamples: number,
  inputRateHz: number,
  outputRateHz = DEFAULT_OUTPUT_RATE_HZ,
): number {
  // Integer arithmetic: floor((2*N*out + in) / (2*in)) equals round-half-up of N * out / in.
  return Math.floor((2 * inputSamples * outputRateHz + inputRateHz) / (2 * inputRateHz));
}

/**
 * Which inner loop computes the outputs. 'simd': float32 WebAssembly SIMD (fir_kernel.ts), 4.5x faster at
 * 24 kHz; 'scalar': float64 JavaScript, the reference. They agree to float32 rounding (about 1e-6); each is
 * chunk-invariant on its own. The default is 'simd' where WebAssembly SIMD exists.
 */
export type ResamplerKernel = 'simd' | 'scalar';

export class StreamingResampler {
  readonly inputRateHz: number;
  readonly outputRateHz: number;
  private readonly filter: PolyphaseFilter | null; // null: same rate, output is a copy of the input
  private readonly baseStep: number; // whole input samples advanced per output sample
  private readonly phaseStep: number; // fractional advance per output sample, in 1 / upFactor units
  private readonly kernel: FirKernel | null; // null: the scalar loop
  // Input samples still needed, buffer[0] being absolute input index bufferStartIndex (negative at first:
  // the zeros that precede the stream). For the scalar loop Float64 like the coefficients: no float32 ->
  // float64 conversion per multiply-add (measured ~20% faster); float32 for the SIMD kernel.
  private buffer: Float32Array | Float64Array = new Float64Array(0);
  private bufferLength = 0;
  private bufferStartIndex = 0;
  private receivedSamples = 0;
  private emittedSamples = 0;
  // Position of the next output sample: input index floor(t_k) and phase (t_k - floor(t_k)) * upFactor.
  private nextBase = 0;
  private nextPhase = 0;

  constructor(inputRateHz: number, outputRateHz: number = DEFAULT_OUTPUT_RATE_HZ, kernel?: ResamplerKernel) {
    assertSupportedRate(inputRateHz, 'input');
    assertSupportedRate(outputRateHz, 'output');
    this.inputRateHz = inputRateHz;
    this.outputRateHz = outputRateHz;
    this.filter = inputRateHz === outputRateHz ? null : getPolyphaseFilter(inputRateHz, outputRateHz);
    this.kernel = this.filter === null || kernel === 'scalar' ? null : firKernel();
    if (kernel === 'simd' && this.filter !== null && this.kernel === null) {
      throw new EarshotError(
        'E_INTERNAL',
        'The SIMD resampler kernel needs WebAssembly SIMD, which this runtime lacks.',
      );
    }
    this.baseStep = this.filter ? Math.floor(this.filter.downFactor / this.filter.upFactor) : 1;
    this.phaseStep = this.filter ? this.filter.downFactor % this.filter.upFactor : 0;
    this.reset();
  }

  /** Input samples of look-ahead: output for input time t is final once input up to t + this has arrived. */
  get latencyInputSamples(): number {
    return this.filter ? this.filter.halfTaps : 0;
  }

  get inputSamplesReceived(): number {
    return this.receivedSamples;
  }

  get outputSamplesEmitted(): number {
    return this.emittedSamples;
  }

  /** Appends input and returns the output samples that are now final (a fresh array, possibly empty). */
  push(input: Float32Array): Float32Array {
    if (this.filter === null) {
      this.receivedSamples += input.length;
      this.emittedSamples += input.length;
      return input.slice();
    }
    const out = new Float32Array(
      Math.max(0, this.readyTotal(this.receivedSamples + input.length) - this.emittedSamples),
    );
    let written = 0;
    // Large inputs (a whole file) go through in blocks so the working buffer stays small.
    for (let offset = 0; offset < input.length; offset += MAX_BLOCK_SAMPLES) {
      const block = input.length <= MAX_BLOCK_SAMPLES ? input : input.subarray(offset, offset + MAX_BLOCK_SAMPLES);
      this.append(block, 0);
      this.receivedSamples += block.length;
      const count = Math.max(0, this.readyTotal(this.receivedSamples) - this.emittedSamples);
      this.produce(out, written, count);
      written += count;
    }
    return out;
  }

  /** Number of outputs, counted from the start of the stream, whose inputs have all arrived. */
  private readyTotal(receivedSamples: number): number {
    const { upFactor, downFactor, halfTaps } = this.filter as PolyphaseFilter;
    // Output k reads inputs up to floor(k * down / up) + halfTaps, so it is ready when that is < received.
    return Math.ceil(((receivedSamples - halfTaps) * upFactor) / downFactor);
  }

  /** Ends the stream: returns the remaining output (input treated as zeros past its end), then resets the
   * resampler so it can start a new stream. */
  flush(): Float32Array {
    if (this.filter === null) {
      this.reset();
      return new Float32Array(0);
    }
    const total = resampledLength(this.receivedSamples, this.inputRateHz, this.outputRateHz);
    // The last output's base is at most receivedSamples - 1, so halfTaps zeros cover its look-ahead.
    this.append(null, this.filter.halfTaps);
    const out = new Float32Array(Math.max(0, total - this.emittedSamples));
    this.produce(out, 0, out.length);
    this.reset();
    return out;
  }

  private reset(): void {
    const halfTaps = this.filter ? this.filter.halfTaps : 0;
    if (this.buffer.length < INITIAL_BUFFER_SAMPLES && this.filter)
      this.buffer = this.newBuffer(INITIAL_BUFFER_SAMPLES);
    // Output 0 reads inputs -(halfTaps - 1) .. halfTaps: start with those leading zeros in the buffer.
    this.buffer.fill(0, 0, Math.max(0, halfTaps - 1));
    this.bufferLength = Math.max(0, halfTaps - 1);
    this.bufferStartIndex = -this.bufferLength;
    this.receivedSamples = 0;
    this.emittedSamples = 0;
    this.nextBase = 0;
    this.nextPhase = 0;
  }

  private newBuffer(samples: number): Float32Array | Float64Array {
    return this.kernel === null ? new Float64Array(samples) : new Float32Array(samples);
  }

  /** Appends `source`, or `zeroCount` zeros when source is null, growing the buffer if needed. */
  private append(source: Float32Array | null, zeroCount: number): void {
    const needed = this.bufferLength + (source === null ? zeroCount : source.length);
    if (needed > this.buffer.length) {
      const grown = this.newBuffer(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.bufferLength));
      this.buffer = grown;
    }
    if (source === null) this.buffer.fill(0, this.bufferLength, needed);
    else this.buffer.set(source, this.bufferLength);
    this.bufferLength = needed;
  }

  /** Writes the next `count` output samples to out[outOffset...]; the inputs they need must be buffered. */
  private produce(out: Float32Array, outOffset: number, count: number): void {
    const filter = this.filter as PolyphaseFilter;
    // Buffer index of the first tap of the next output: base - (halfTaps - 1), relative to the buffer.
    const position: KernelPosition = {
      start: this.nextBase - filter.halfTaps + 1 - this.bufferStartIndex,
      phase: this.nextPhase,
    };
    const next =
      count === 0
        ? position
        : this.kernel !== null
          ? this.kernel.run(
              filter,
              this.baseStep,
              this.phaseStep,
              this.buffer as Float32Array,
              this.bufferLength,
              position,
              out,
              outOffset,
              count,
            )
          : this.produceScalar(filter, position, out, outOffset, count);
    const firstNeeded = next.start; // buffer index of the first input the next output will read
    this.nextBase = next.start + this.bufferStartIndex + filter.halfTaps - 1;
    this.nextPhase = next.phase;
    this.emittedSamples += count;
    // Drop inputs no future output reads, keeping the buffer a few hundred samples long.
    const drop = Math.min(firstNeeded, this.bufferLength);
    if (drop > 0) {
      this.buffer.copyWithin(0, drop, this.bufferLength);
      this.bufferLength -= drop;
      this.bufferStartIndex += drop;
    }
  }

  /** The float64 JavaScript loop (the reference kernel); returns the position after the outputs. */
  private produceScalar(
    filter: PolyphaseFilter,
    position: KernelPosition,
    out: Float32Array,
    outOffset: number,
    count: number,
  ): KernelPosition {
    const coefficients = filter.coefficients;
    const buffer = this.buffer;
    const taps = filter.tapsPerPhase;
    const upFactor = filter.upFactor;
    const baseStep = this.baseStep;
    const phaseStep = this.phaseStep;
    let { start, phase } = position;
    const folded = filter.foldedLengths;
    for (let k = 0; k < count; k++) {
      if (folded !== null) {
        // Symmetric phase: c[i] == c[L-1-i], so the pair's inputs are added before one multiply.
        const length = folded[phase];
        const half = length >> 1;
        const c = phase * taps;
        const last = start + length - 1;
        let acc0 = 0;
        let acc1 = 0;
        let i = 0;
        for (; i + 1 < half; i += 2) {
          acc0 += coefficients[c + i] * (buffer[start + i] + buffer[last - i]);
          acc1 += coefficients[c + i + 1] * (buffer[start + i + 1] + buffer[last - i - 1]);
        }
        if (i < half) acc0 += coefficients[c + i] * (buffer[start + i] + buffer[last - i]);
        if ((length & 1) === 1) acc1 += coefficients[c + half] * buffer[start + half];
        out[outOffset + k] = acc0 + acc1;
      } else {
        const coefficientStart = phase * taps;
        // Four partial sums break the floating-point add dependency chain (measured ~25% faster than one).
        // The order is fixed, so streaming and one-shot results stay bit-identical.
        let acc0 = 0;
        let acc1 = 0;
        let acc2 = 0;
        let acc3 = 0;
        for (let i = 0; i < taps; i += 4) {
          const c = coefficientStart + i;
          const b = start + i;
          acc0 += coefficients[c] * buffer[b];
          acc1 += coefficients[c + 1] * buffer[b + 1];
          acc2 += coefficients[c + 2] * buffer[b + 2];
          acc3 += coefficients[c + 3] * buffer[b + 3];
        }
        out[outOffset + k] = acc0 + acc1 + (acc2 + acc3);
      }
      phase += phaseStep;
      start += baseStep;
      if (phase >= upFactor) {
        phase -= upFactor;
        start += 1;
      }
    }
    return { start, phase };
  }
}

/** One-shot resampling: identical to push(input) followed by flush() on a fresh StreamingResampler. */
export function resample(
  input: Float32Array,
  inputRateHz: number,
  outputRateHz: number = DEFAULT_OUTPUT_RATE_HZ,
  kernel?: ResamplerKernel,
): Float32Array {
  const resampler = new StreamingResampler(inputRateHz, outputRateHz, kernel);
  const head = resampler.push(input);
  const tail = resampler.flush();
  if (tail.length === 0) return head;
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
