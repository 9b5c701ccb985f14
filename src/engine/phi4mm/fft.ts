// Power spectrum of a real frame, in float64. The input is real, so an N-point transform is computed as one
// N/2-point complex FFT of the even/odd samples packed as re/im, followed by the usual split step. All tables
// and scratch arrays are allocated once per instance; `powerSpectrum` allocates nothing.
//
// Float64 on purpose: the reference's rfft runs in float64, and after the x32768 scaling a loud frame's FFT
// error in float32 (~1e-7 x frame energy) would swamp quiet mel bands near the ln(1) floor.

export class RealFft {
  readonly size: number;
  readonly bins: number; // size / 2 + 1
  private readonly half: number;
  private readonly bitReversed: Int32Array; // bitReversed[n] = position of packed sample n before the butterflies
  private readonly leadingRadix2: boolean;
  // Per table-driven radix-4 pass (span s = 2 after a leading radix-2 pass, else 4 after the unit-twiddle
  // span-1 pass; then x4) and k < s: re/im of w^2k, w^k, w^3k with w = e^{-2 pi i / 4s},
  // stored in the order the passes read them.
  private readonly stageTwiddles: Float64Array;
  private readonly splitCos: Float64Array; // cos(2 pi k / size), k <= half
  private readonly splitSin: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.half = size / 2;
    this.bins = this.half + 1;
    const half = this.half;
    const bits = Math.log2(half);
    this.bitReversed = new Int32Array(half);
    for (let n = 0; n < half; n++) {
      let reversed = 0;
      for (let b = 0; b < bits; b++) reversed |= ((n >> b) & 1) << (bits - 1 - b);
      this.bitReversed[n] = reversed;
    }
    // Two fused radix-2 stages with spans s and 2s: the first multiplies x_b by W_2s^k = w^2k and x_d by the
    // same; the second multiplies (x_c + w^2k x_d) by w^k, i.e. x_c by w^k and x_d by w^3k, and the
    // (b, d) pair by w^(k+s) = -i w^k, which is the -i in the butterfly.
    this.leadingRadix2 = bits % 2 === 1;
    const twiddles: number[] = [];
    // The span-1 pass of an even stage count has unit twiddles and is written out without a table.
    for (let span = this.leadingRadix2 ? 2 : 4; span < half; span <<= 2) {
      for (let k = 0; k < span; k++) {
        for (const multiple of [2, 1, 3]) {
          const angle = (-2 * Math.PI * multiple * k) / (4 * span);
          twiddles.push(Math.cos(angle), Math.sin(angle));
        }
      }
    }
    this.stageTwiddles = Float64Array.from(twiddles);
    this.splitCos = new Float64Array(half + 1);
    this.splitSin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.splitSin[k] = Math.sin((2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
  }

  /**
   * `power[k] = |sum_n input[n] e^{-2 pi i k n / size}|^2` for k = 0..size/2, where `input` holds the first
   * `inputLength` samples of the frame and the rest is zero padding (`inputLength` <= size).
   */
  powerSpectrum(input: Float64Array, inputLength: number, power: Float64Array): void {
    const { half, re, im, bitReversed } = this;
    // Pack x[2n] + i x[2n+1] straight into bit-reversed order; padding slots are re-zeroed every call
    // because the in-place butterflies overwrite them.
    const pairs = inputLength >> 1;
    for (let n = 0; n < pairs; n++) {
      const j = bitReversed[n];
      re[j] = input[2 * n];
      im[j] = input[2 * n + 1];
    }
    let n = pairs;
    if (inputLength & 1) {
      const j = bitReversed[n];
      re[j] = input[2 * n];
      im[j] = 0;
      n++;
    }
    for (; n < half; n++) {
      const j = bitReversed[n];
      re[j] = 0;
      im[j] = 0;
    }
    this.complexButterflies();
    this.splitToPower(power);
  }

  /**
   * In-place decimation-in-time FFT of (re, im), input already in bit-reversed order. Pairs of radix-2 stages
   * are fused into radix-4 passes (3 complex multiplies per 4 points, half the memory passes); a leading
   * radix-2 pass handles an odd number of stages (the 128-point transform of the 8 kHz path).
   */
  private complexButterflies(): void {
    const { half, re, im, stageTwiddles } = this;
    let span = 1;
    if (this.leadingRadix2) {
      for (let i = 0; i < half; i += 2) {
        const ar = re[i],
          ai = im[i],
          br = re[i + 1],
          bi = im[i + 1];
        re[i] = ar + br;
        im[i] = ai + bi;
        re[i + 1] = ar - br;
        im[i + 1] = ai - bi;
      }
      span = 2;
    } else {
      // First radix-4 pass (span 1): all twiddles are 1.
      for (let a = 0; a < half; a += 4) {
        const ar = re[a],
          ai = im[a],
          br = re[a + 1],
          bi = im[a + 1];
        const cr = re[a + 2],
          ci = im[a + 2],
          dr = re[a + 3],
          di = im[a + 3];
        const sumABr = ar + br,
          sumABi = ai + bi,
          difABr = ar - br,
          difABi = ai - bi;
        const sumCDr = cr + dr,
          sumCDi = ci + di,
          difCDr = cr - dr,
          difCDi = ci - di;
        re[a] = sumABr + sumCDr;
        im[a] = sumABi + sumCDi;
        re[a + 2] = sumABr - sumCDr;
        im[a + 2] = sumABi - sumCDi;
        re[a + 1] = difABr + difCDi;
        im[a + 1] = difABi - difCDr;
        re[a + 3] = difABr - difCDi;
        im[a + 3] = difABi + difCDr;
      }
      span = 4;
    }
    let offset = 0;
    for (; span < half; span <<= 2) {
      const group = 4 * span;
      for (let k = 0; k < span; k++, offset += 6) {
        const w1r = stageTwiddles[offset],
          w1i = stageTwiddles[offset + 1];
        const w2r = stageTwiddles[offset + 2],
          w2i = stageTwiddles[offset + 3];
        const w3r = stageTwiddles[offset + 4],
          w3i = stageTwiddles[offset + 5];
        for (let a = k; a < half; a += group) {
          const b = a + span,
            c = b + span,
            d = c + span;
          // B = w^2k x_b, C = w^k x_c, D = w^3k x_d (w = e^{-2 pi i / group}); see the constructor.
          const br = re[b] * w1r - im[b] * w1i,
            bi = re[b] * w1i + im[b] * w1r;
          const cr = re[c] * w2r - im[c] * w2i,
            ci = re[c] * w2i + im[c] * w2r;
          const dr = re[d] * w3r - im[d] * w3i,
            di = re[d] * w3i + im[d] * w3r;
          const ar = re[a],
            ai = im[a];
          const sumABr = ar + br,
            sumABi = ai + bi,
            difABr = ar - br,
            difABi = ai - bi;
          const sumCDr = cr + dr,
            sumCDi = ci + di,
            difCDr = cr - dr,
            difCDi = ci - di;
          re[a] = sumABr + sumCDr;
          im[a] = sumABi + sumCDi;
          re[c] = sumABr - sumCDr;
          im[c] = sumABi - sumCDi;
          // b' -/+ i (C - D)
          re[b] = difABr + difCDi;
          im[b] = difABi - difCDr;
          re[d] = difABr - difCDi;
          im[d] = difABi + difCDr;
        }
      }
    }
  }

  /**
   * Unpack Z = FFT(even + i odd) into X: with E[k] = (Z[k] + conj Z[half-k]) / 2 and
   * O[k] = (Z[k] - conj Z[half-k]) / 2i, X[k] = E[k] + e^{-2 pi i k / size} O[k].
   */
  private splitToPower(power: Float64Array): void {
    const { half, re, im, splitCos, splitSin } = this;
    // k = 0 and k = half: E = Re Z0, O = Im Z0.
    const dc = re[0] + im[0];
    const nyquist = re[0] - im[0];
    power[0] = dc * dc;
    power[half] = nyquist * nyquist;
    for (let k = 1; k < half; k++) {
      const zr = re[k],
        zi = im[k];
      const cr = re[half - k],
        ci = -im[half - k]; // conj Z[half - k]
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // (Z - conj) / 2i = (dr + i di) / 2i = (di - i dr) / 2
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = splitCos[k];
      const wi = -splitSin[k];
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      power[k] = xr * xr + xi * xi;
    }
  }
}
