import { kokoroConfigSchema } from '../../config/kokoro_schema.ts';
import { ensureKokoroFixture } from '../../tts/kokoro/fixture/cache.ts';
import type { KokoroSynthesizer } from '../../tts/kokoro/kokoro_synthesizer.ts';
import { openKokoroSynthesizer } from '../../tts/kokoro/open.ts';

// `earshot bench tts` piece: the real-time factor of the whole Kokoro path (normaliser, espeak phonemes,
// tokens, the worker's graph run, PCM conversion) on the generated contract graph. It measures Earshot's
// plumbing around the model, not Kokoro's own speed, which needs the real weights.

const BENCH_TEXT =
  'Your train leaves at 7:45 pm from platform two. The ticket costs $23.50, and the trip takes about three hours. ' +
  'Would you like me to book a seat by the window?';

export interface KokoroRtfOptions {
  /** Answers synthesised after one warm-up answer (default 5). */
  answers?: number;
  text?: string;
  intraOpThreads?: number;
}

export interface KokoroRtfResult {
  /** Synthesis wall time / audio duration over all answers (below 1 keeps up with real time). */
  kokoro_fixture_rtf: number;
  /** The variant the load-time speed check chose. */
  precision: string;
}

export async function measureKokoroFixtureRtf(o: KokoroRtfOptions = {}): Promise<KokoroRtfResult> {
  const dir = ensureKokoroFixture();
  const config = kokoroConfigSchema.parse({
    dir,
    auto_pull: false,
    ...(o.intraOpThreads === undefined ? {} : { intra_op_threads: o.intraOpThreads }),
  });
  const kokoro = (await openKokoroSynthesizer(config, { env: {} })) as KokoroSynthesizer;
  try {
    const text = o.text ?? BENCH_TEXT;
    const speak = async (): Promise<number> => {
      let samples = 0;
      for await (const chunk of kokoro.synthesize({
        text,
        voice: 'af_heart',
        speed: 1,
        signal: new AbortController().signal,
      }))
        samples += chunk.pcm.length;
      return samples;
    };
    await speak(); // warm-up: first-run allocations, voice file read
    let samples = 0;
    const started = performance.now();
    for (let i = 0; i < (o.answers ?? 5); i++) samples += await speak();
    const wallMs = performance.now() - started;
    return { kokoro_fixture_rtf: wallMs / ((samples / 24_000) * 1000), precision: kokoro.precision };
  } finally {
    await kokoro.close();
  }
}
