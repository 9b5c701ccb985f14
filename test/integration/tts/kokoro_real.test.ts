import { describe, expect, it } from 'vitest';
import { kokoroConfigSchema } from '../../../src/config/kokoro_schema.ts';
import type { KokoroSynthesizer } from '../../../src/tts/kokoro/kokoro_synthesizer.ts';
import { openKokoroSynthesizer } from '../../../src/tts/kokoro/open.ts';
import type { PcmChunk } from '../../../src/tts/synthesizer.ts';

// The real Kokoro-82M weights, only where a folder is present (they cannot be downloaded on the build
// machines): EARSHOT_KOKORO_REAL_DIR=<folder of onnx-community/Kokoro-82M-v1.0-ONNX>.

const realDir = process.env.EARSHOT_KOKORO_REAL_DIR?.trim() || undefined;
const title =
  realDir === undefined
    ? 'real Kokoro weights (skipped: set EARSHOT_KOKORO_REAL_DIR to a Kokoro-82M-v1.0-ONNX folder to run it)'
    : `real Kokoro weights in ${realDir}`;

async function speak(kokoro: KokoroSynthesizer, text: string): Promise<PcmChunk[]> {
  const out: PcmChunk[] = [];
  for await (const c of kokoro.synthesize({ text, voice: 'af_heart', speed: 1, signal: new AbortController().signal }))
    out.push(c);
  return out;
}

const rms = (pcm: Int16Array): number =>
  Math.sqrt(pcm.reduce((s, x) => s + x * x, 0) / Math.max(1, pcm.length)) / 32768;

describe.skipIf(realDir === undefined)(title, () => {
  it('speaks non-silent 24 kHz audio whose length grows with the text, at a precision that ran', async () => {
    const kokoro = (await openKokoroSynthesizer(
      kokoroConfigSchema.parse({ dir: realDir, auto_pull: false }),
    )) as KokoroSynthesizer;
    try {
      expect(['fp32', 'fp16', 'q8', 'uint8', 'q4']).toContain(kokoro.precision);
      expect(kokoro.voices()).toContain('af_heart');
      const short = await speak(kokoro, 'Hello there.');
      const long = await speak(
        kokoro,
        'Hello there. This answer is a good deal longer than the first one, so it takes longer to say.',
      );
      const seconds = (chunks: PcmChunk[]) => chunks.reduce((n, c) => n + c.pcm.length, 0) / 24_000;
      expect(short.every((c) => c.sampleRateHz === 24_000)).toBe(true);
      expect(seconds(short)).toBeGreaterThan(0.3);
      expect(seconds(short)).toBeLessThan(5);
      expect(seconds(long)).toBeGreaterThan(seconds(short) * 2);
      expect(rms(short[0].pcm)).toBeGreaterThan(0.01);
    } finally {
      await kokoro.close();
    }
  });
});
