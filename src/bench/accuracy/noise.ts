// Seeded noise for the VAD accuracy set: white, pink (-3 dB/octave) and brown (-6 dB/octave), identical on
// every platform for the same seed, so the accuracy table is reproducible bit for bit.

export type NoiseColour = 'white' | 'pink' | 'brown';
export const NOISE_COLOURS: readonly NoiseColour[] = ['white', 'pink', 'brown'];

/** mulberry32: small, seedable, identical on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller). */
function gaussian(samples: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(samples);
  for (let i = 0; i < samples; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < samples) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Paul Kellet's pink filter (accurate to ±0.05 dB above 9.2 Hz at 44.1 kHz; close enough at 16 kHz). */
function pinkFrom(white: Float64Array): Float64Array {
  const out = new Float64Array(white.length);
  let b0 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0,
    b4 = 0,
    b5 = 0,
    b6 = 0;
  for (let i = 0; i < white.length; i++) {
    const w = white[i];
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return out;
}

/** Leaky integration: -6 dB/octave above ~13 Hz at 16 kHz, without the unbounded drift of a pure integrator. */
const BROWN_LEAK = 0.995;
function brownFrom(white: Float64Array): Float64Array {
  const out = new Float64Array(white.length);
  let y = 0;
  for (let i = 0; i < white.length; i++) {
    y = BROWN_LEAK * y + white[i];
    out[i] = y;
  }
  return out;
}

/** `samples` of noise of the given colour, scaled to an RMS of `rms` over the whole stretch. */
export function colouredNoise(colour: NoiseColour, samples: number, rms: number, seed: number): Float64Array {
  const white = gaussian(samples, seed);
  const noise = colour === 'white' ? white : colour === 'pink' ? pinkFrom(white) : brownFrom(white);
  let power = 0;
  for (let i = 0; i < noise.length; i++) power += noise[i] * noise[i];
  const scale = rms / Math.sqrt(power / Math.max(1, noise.length));
  for (let i = 0; i < noise.length; i++) noise[i] *= scale;
  return noise;
}
