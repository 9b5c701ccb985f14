// Measurements on synthesised speech for the voice-engine tests (no golden files: espeak-ng's output
// changes between distro versions).
import type { PcmChunk, Synthesizer } from '../../src/tts/synthesizer.ts';

export function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

export function concatInt16(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function synthesizeAll(
  synth: Synthesizer,
  text: string,
  voice = 'en-us',
  speed = 1,
): Promise<{ pcm: Int16Array; chunks: PcmChunk[] }> {
  const chunks = await collect(synth.synthesize({ text, voice, speed, signal: new AbortController().signal }));
  return { pcm: concatInt16(chunks.map((c) => c.pcm)), chunks };
}
