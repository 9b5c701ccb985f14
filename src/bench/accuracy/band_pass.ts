// Linear-phase band-pass (windowed sinc, Blackman window) with its delay compensated: the filtered signal
// lines up with the input sample for sample, so band-limiting moves no speech boundary.

const TAPS = 401; // ~25 ms at 16 kHz: a transition band of ~200 Hz

function kernel(rateHz: number, lowHz: number, highHz: number): Float64Array {
  const h = new Float64Array(TAPS);
  const mid = (TAPS - 1) / 2;
  const sinc = (fc: number, n: number) => (n === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * n) / (Math.PI * n));
  for (let i = 0; i < TAPS; i++) {
    const n = i - mid;
    const window =
      0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    h[i] = (sinc(highHz / rateHz, n) - sinc(lowHz / rateHz, n)) * window;
  }
  return h;
}

export function bandPass(x: Float64Array, rateHz: number, lowHz: number, highHz: number): Float64Array {
  const h = kernel(rateHz, lowHz, highHz);
  const mid = (TAPS - 1) / 2;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let acc = 0;
    const from = Math.max(0, i - mid);
    const to = Math.min(x.length - 1, i + mid);
    for (let j = from; j <= to; j++) acc += x[j] * h[j - i + mid];
    out[i] = acc;
  }
  return out;
}
