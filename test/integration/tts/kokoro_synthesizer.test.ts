import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kokoroConfigSchema, type KokoroConfig } from '../../../src/config/kokoro_schema.ts';
import { ensureKokoroFixture } from '../../../src/tts/kokoro/fixture/cache.ts';
import { DEFAULT_KOKORO_FIXTURE_SEED, fixtureVoice } from '../../../src/tts/kokoro/fixture/generate.ts';
import { FIXTURE_SAMPLES_PER_TOKEN, fixtureAmplitude, STYLE_DIM } from '../../../src/tts/kokoro/fixture/graph.ts';
import type { KokoroSynthesizer } from '../../../src/tts/kokoro/kokoro_synthesizer.ts';
import { openKokoroSynthesizer } from '../../../src/tts/kokoro/open.ts';
import { phonemize } from '../../../src/tts/kokoro/phonemize.ts';
import { normalizeText } from '../../../src/tts/kokoro/normalize.ts';
import { padIds, styleRowIndex, tokenize } from '../../../src/tts/kokoro/tokenizer.ts';
import type { PcmChunk, Synthesizer } from '../../../src/tts/synthesizer.ts';
import { ttsSchema } from '../../../src/config/tts_schema.ts';
import { ESPEAK_SAMPLE_RATE_HZ as ESPEAK_RATE_HZ, EspeakSynthesizer } from '../../../src/tts/espeak_synthesizer.ts';
import type { SynthesisRequest } from '../../../src/tts/synthesizer.ts';

/** The product's espeak voice, recording what it was asked to say. */
class RecordingEspeak implements Synthesizer {
  readonly name = 'espeak' as const;
  readonly requests: string[] = [];
  private readonly inner = new EspeakSynthesizer({ ...ttsSchema.parse({}).espeak, maxInputChars: 4096 });
  voices(): readonly string[] {
    return this.inner.voices();
  }
  synthesize(request: SynthesisRequest): AsyncIterable<PcmChunk> {
    this.requests.push(request.text);
    return this.inner.synthesize({ ...request, voice: 'en-us' });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

// The Kokoro synthesizer end to end on the generated contract graph (real onnxruntime in the worker thread,
// real espeak-ng phonemes): what goes in (ids, style row) and what comes out (N samples per run, in order).

const SEED = DEFAULT_KOKORO_FIXTURE_SEED;
let dir: string;

const config = (over: Partial<KokoroConfig> = {}): KokoroConfig =>
  kokoroConfigSchema.parse({ dir, auto_pull: false, intra_op_threads: 1, ...over });

async function collect(chunks: AsyncIterable<PcmChunk>): Promise<PcmChunk[]> {
  const out: PcmChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const peak = (pcm: Int16Array): number => pcm.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe('Kokoro synthesizer on the contract fixture', () => {
  let kokoro: KokoroSynthesizer;
  beforeAll(async () => {
    dir = ensureKokoroFixture(SEED);
    kokoro = (await openKokoroSynthesizer(config())) as KokoroSynthesizer;
  });
  afterAll(async () => {
    await kokoro?.close();
  });

  it('picks a precision by the speed check and never tries q8f16', () => {
    expect(['fp32', 'fp16', 'q8']).toContain(kokoro.precision);
    expect(kokoro.voices()).toEqual(['af_bella', 'af_heart', 'am_michael', 'bf_emma']);
  });

  it('feeds espeak phonemes as vocabulary ids between two pads', async () => {
    const text = 'It costs $5.';
    const { runs } = await kokoro.prepare(text);
    const expected = padIds(
      tokenize(
        await phonemize(normalizeText(text)),
        (await import('../../../src/tts/kokoro/tokenizer.ts')).parseVocab(
          (await import('node:fs')).readFileSync(`${dir}/tokenizer.json`, 'utf8'),
          'tokenizer.json',
        ),
      ).ids,
    );
    expect(runs).toHaveLength(1);
    expect([...runs[0].ids]).toEqual([...expected]);
    expect(runs[0].ids[0]).toBe(0n);
    expect(runs[0].ids.at(-1)).toBe(0n);
  });

  it("uses style row min(max(T-2,0),509) of the voice: the output amplitude is that row's", async () => {
    const text = 'Hello there, how are you today?';
    const { runs } = await kokoro.prepare(text);
    const T = runs[0].ids.length;
    const voice = fixtureVoice(SEED, 'am_michael');
    const rowAmp = (row: number) => fixtureAmplitude(voice.subarray(row * STYLE_DIM, (row + 1) * STYLE_DIM), SEED);
    const row = styleRowIndex(T);
    expect(kokoro.styleFor('am_michael', T)).toEqual(voice.slice(row * STYLE_DIM, (row + 1) * STYLE_DIM));
    const [chunk] = await collect(
      kokoro.synthesize({ text, voice: 'am_michael', speed: 1, signal: new AbortController().signal }),
    );
    const measured = peak(chunk.pcm) / 32767;
    expect(Math.abs(measured - rowAmp(row))).toBeLessThan(0.01 * rowAmp(row) + 1e-3);
    // The neighbouring rows would give another amplitude: the check can tell rows apart.
    expect(Math.abs(rowAmp(row + 1) - rowAmp(row))).toBeGreaterThan(0.01);
  });

  it('returns N = round(T*600/speed) samples per run at 24 kHz, at every speed', async () => {
    const text = 'One sentence here. And a second, longer sentence follows it!';
    const { runs } = await kokoro.prepare(text);
    expect(runs).toHaveLength(2);
    for (const speed of [1, 0.8, 1.25, 0.5]) {
      const chunks = await collect(
        kokoro.synthesize({ text, voice: 'af_heart', speed, signal: new AbortController().signal }),
      );
      expect(chunks.map((c) => c.sampleRateHz)).toEqual([24_000, 24_000]);
      expect(chunks.map((c) => c.pcm.length)).toEqual(
        runs.map((r) => Math.round((r.ids.length * FIXTURE_SAMPLES_PER_TOKEN) / speed)),
      );
    }
  });

  it('streams one chunk per sentence in text order', async () => {
    const text = 'Hi. This second sentence is clearly the longest of all three. Okay then.';
    const { runs, sentences } = await kokoro.prepare(text);
    expect(sentences).toHaveLength(3);
    const lengths = runs.map((r) => r.ids.length * FIXTURE_SAMPLES_PER_TOKEN);
    expect(new Set(lengths).size).toBe(3);
    const chunks = await collect(
      kokoro.synthesize({ text, voice: 'af_heart', speed: 1, signal: new AbortController().signal }),
    );
    expect(chunks.map((c) => c.pcm.length)).toEqual(lengths);
  });

  it('stops at once when aborted mid-answer and keeps serving afterwards', async () => {
    const controller = new AbortController();
    const text = 'First sentence. Second sentence. Third sentence. Fourth sentence.';
    const got: PcmChunk[] = [];
    for await (const c of kokoro.synthesize({ text, voice: 'af_heart', speed: 1, signal: controller.signal })) {
      got.push(c);
      controller.abort();
    }
    expect(got).toHaveLength(1);
    const after = await collect(
      kokoro.synthesize({ text: 'Still here.', voice: 'af_heart', speed: 1, signal: new AbortController().signal }),
    );
    expect(after).toHaveLength(1);
  });

  it('rejects a voice the folder does not have', async () => {
    await expect(
      collect(kokoro.synthesize({ text: 'Hi.', voice: 'nobody', speed: 1, signal: new AbortController().signal })),
    ).rejects.toMatchObject({ code: 'E_TTS_VOICE' });
  });
});

describe('Kokoro falls back to espeak when slower than real time', () => {
  it('a running answer continues with the fallback after a too-slow run, and is counted', async () => {
    dir = ensureKokoroFixture(SEED);
    const fallback = new RecordingEspeak();
    const counted: string[] = [];
    // max_rtf 1e9 at load (passes), then lowered: the warm-up was fast enough, the running answer is not.
    const kokoro = (await openKokoroSynthesizer(config({ max_rtf: 1e9 }), {
      fallback,
      countFallback: (r) => counted.push(r),
    })) as KokoroSynthesizer;
    try {
      (kokoro as unknown as { settings: { maxRtf: number } }).settings.maxRtf = 1e-9;
      const chunks = await collect(
        kokoro.synthesize({
          text: 'Kokoro speaks this. Espeak speaks this one.',
          voice: 'af_heart',
          speed: 1,
          signal: new AbortController().signal,
        }),
      );
      expect(chunks[0].sampleRateHz).toBe(24_000);
      expect(chunks.slice(1).every((c) => c.sampleRateHz === ESPEAK_RATE_HZ)).toBe(true);
      expect(chunks.slice(1).reduce((n, c) => n + c.pcm.length, 0)).toBeGreaterThan(ESPEAK_RATE_HZ / 2);
      expect(fallback.requests).toEqual(['Espeak speaks this one.']);
      expect(counted).toEqual(['running_slow']);
      // Within fallback_hold_ms the next answer goes to the fallback directly.
      const next = await collect(
        kokoro.synthesize({ text: 'Next answer.', voice: 'af_heart', speed: 1, signal: new AbortController().signal }),
      );
      expect(next.every((c) => c.sampleRateHz === ESPEAK_RATE_HZ)).toBe(true);
      expect(counted).toEqual(['running_slow', 'recently_slow']);
    } finally {
      await kokoro.close();
    }
  });

  it('a warm-up slower than the threshold (config max_rtf) sends answers to the fallback from the start', async () => {
    const fallback = new RecordingEspeak();
    const counted: string[] = [];
    const kokoro = (await openKokoroSynthesizer(config({ max_rtf: 1e-9 }), {
      fallback,
      countFallback: (r) => counted.push(r),
    })) as Synthesizer;
    try {
      const chunks = await collect(
        kokoro.synthesize({
          text: 'All of this is espeak.',
          voice: 'af_heart',
          speed: 1,
          signal: new AbortController().signal,
        }),
      );
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.every((c) => c.sampleRateHz === ESPEAK_RATE_HZ)).toBe(true);
      expect(counted).toEqual(['warmup_slow']);
    } finally {
      await kokoro.close();
    }
  });
});
