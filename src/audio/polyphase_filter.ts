// Windowed-sinc (Kaiser) polyphase filter design for rational resampling. The table is a pure function of
// the rate pair and is cached per process, so 100+ streams at the same rate share one copy.

/** Stopband attenuation of the prototype filter. 80 dB keeps aliases below 16-bit quantisation noise of
 * ordinary speech levels; the acceptance criterion is 50 dB, so there is margin for the transition band. */
const STOPBAND_ATTENUATION_DB = 80;
/** Passband edge as a fraction of the lower rate: 0.4375 -> flat to 7 kHz when either side is 16 kHz. */
const PASSBAND_EDGE_FRACTION = 0.4375;
/** Stopband edge as a fraction of the lower rate: its Nyquist frequency, so nothing above 8 kHz aliases. */
const STOPBAND_EDGE_FRACTION = 0.5;

export interface PolyphaseFilter {
  /** Output samples per `downFactor` input samples: outRate / inRate = upFactor / downFactor, reduced. */
  upFactor: number;
  downFactor: number;
  /** Taps on each side of the output position: phase p uses input j in [base - halfTaps + 1, base + halfTaps]. */
  halfTaps: number;
  /** 2 * halfTaps, always a multiple of 4. */
  tapsPerPhase: number;
  /** upFactor phases of tapsPerPhase coefficients, phase-major. Phase p is the fractional offset p / upFactor. */
  coefficients: Float64Array;
  /**
   * When every phase is symmetric (offsets 0 and 1/2 only: 24, 48, 32 and 8 kHz to 16 kHz), the length of
   * each phase's symmetric run from its first tap (the taps after it are zero). The resampler then adds the
   * two inputs of each pair before one multiply: half the multiplies. Null otherwise.
   */
  foldedLengths: Int32Array | null;
}

/** Lengths of the symmetric runs of every phase, or null if some phase is not symmetric. */
function foldedLengthsOf(coefficients: Float64Array, upFactor: number, tapsPerPhase: number): Int32Array | null {
  const lengths = new Int32Array(upFactor);
  for (let phase = 0; phase < upFactor; phase++) {
    const c = coefficients.subarray(phase * tapsPerPhase, (phase + 1) * tapsPerPhase);
    let length = tapsPerPhase;
    while (length > 0 && c[length - 1] === 0) length--;
    for (let i = 0; i < length >> 1; i++) if (c[i] !== c[length - 1 - i]) return null;
    lengths[phase] = length;
  }
  return lengths;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for x < 30). */
function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}

function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

export function designPolyphaseFilter(inputRateHz: number, outputRateHz: number): PolyphaseFilter {
  const divisor = greatestCommonDivisor(inputRateHz, outputRateHz);
  const upFactor = outputRateHz / divisor;
  const downFactor = inputRateHz / divisor;
  const lowerRateHz = Math.min(inputRateHz, outputRateHz);

  // Everything below is in units of input samples: the kernel g(tau) weighs input j for an output at
  // input position t by g(t - j), which makes upsampling and downsampling the same formula.
  const cutoffCyclesPerSample = ((PASSBAND_EDGE_FRACTION + STOPBAND_EDGE_FRACTION) / 2) * (lowerRateHz / inputRateHz);
  const transitionCyclesPerSample = (STOPBAND_EDGE_FRACTION - PASSBAND_EDGE_FRACTION) * (lowerRateHz / inputRateHz);
  // Kaiser's length estimate: taps = (A - 8) / (2.285 * transition width in rad/sample).
  const kernelLength = (STOPBAND_ATTENUATION_DB - 8) / (2.285 * 2 * Math.PI * transitionCyclesPerSample);
  // halfTaps even -> tapsPerPhase a multiple of 4, which the resampler's 4-way unrolled loop relies on.
  const halfTaps = 2 * Math.ceil(kernelLength / 4);
  const tapsPerPhase = 2 * halfTaps;
  const beta = kaiserBeta(STOPBAND_ATTENUATION_DB);
  const windowNorm = besselI0(beta);

  const coefficients = new Float64Array(upFactor * tapsPerPhase);
  const phaseTaps = new Float64Array(tapsPerPhase);
  for (let phase = 0; phase < upFactor; phase++) {
    const fraction = phase / upFactor;
    let sum = 0;
    for (let i = 0; i < tapsPerPhase; i++) {
      const tau = fraction + halfTaps - 1 - i; // output position minus input position, in (-halfTaps, halfTaps)
      const x = 2 * cutoffCyclesPerSample * tau;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const ratio = tau / halfTaps;
      const window = ratio * ratio >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - ratio * ratio)) / windowNorm;
      phaseTaps[i] = 2 * cutoffCyclesPerSample * sinc * window;
      sum += phaseTaps[i];
    }
    // Exact unity DC gain in every phase: otherwise the small per-phase gain differences modulate a
    // constant signal into a tone at the phase rate.
    for (let i = 0; i < tapsPerPhase; i++) coefficients[phase * tapsPerPhase + i] = phaseTaps[i] / sum;
  }
  return {
    upFactor,
    downFactor,
    halfTaps,
    tapsPerPhase,
    coefficients,
    foldedLengths: foldedLengthsOf(coefficients, upFactor, tapsPerPhase),
  };
}

const filterCache = new Map<string, PolyphaseFilter>();

export function getPolyphaseFilter(inputRateHz: number, outputRateHz: number): PolyphaseFilter {
  const key = `${inputRateHz}->${outputRateHz}`;
  let filter = filterCache.get(key);
  if (filter === undefined) {
    filter = designPolyphaseFilter(inputRateHz, outputRateHz);
    filterCache.set(key, filter);
  }
  return filter;
}
