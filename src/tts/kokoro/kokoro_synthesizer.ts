import { EarshotError, isEarshotError } from '../../errors.ts';
import type { PcmChunk, SynthesisRequest, Synthesizer } from '../synthesizer.ts';
import { readVoice, STYLE_DIM, type KokoroFolder } from './model_folder.ts';
import type { KokoroRuntime } from './kokoro_runtime.ts';
import { normalizeText } from './normalize.ts';
import { phonemizeSentences } from './phonemize.ts';
import { splitSentences } from './sentences.ts';
import { padIds, splitPhonemes, styleRowIndex, tokenize } from './tokenizer.ts';

// Kokoro behind the Synthesizer contract: text -> normalised -> sentences -> espeak phonemes -> ids
// (padded, <= 510 phonemes per run) -> one graph run per sentence/segment -> 24 kHz PCM chunks in order.
// When Kokoro is measured slower than real time, the rest of the answer is spoken by the fallback voice.

export const KOKORO_SAMPLE_RATE_HZ = 24_000;

/** Why an answer (or its rest) went to the fallback voice (label of earshot_tts_kokoro_fallbacks_total). */
export type KokoroFallbackReason = 'warmup_slow' | 'running_slow' | 'recently_slow';

export interface KokoroSynthesizerSettings {
  maxRtf: number;
  fallbackHoldMs: number;
  maxPhonemesPerRun: number;
  espeakProgram: string;
}

export interface KokoroSynthesizerDeps {
  /** Speaks what Kokoro cannot keep up with (espeak); without it Kokoro keeps speaking, late. */
  fallback?: Synthesizer;
  countFallback?: (reason: KokoroFallbackReason) => void;
  /** The fallback's voice for a Kokoro voice (default: the same id). */
  fallbackVoice?: (kokoroVoice: string) => string;
  log?: { info(data: object, message: string): void; warn(data: object, message: string): void };
  /** Clock in ms (tests). */
  nowMs?: () => number;
}

/** One graph run's input and where it came from. */
export interface KokoroRunInput {
  ids: BigInt64Array;
  /** Index of the sentence in the request; runs of one long sentence share it. */
  sentence: number;
}

function toInt16(waveform: Float32Array): Int16Array {
  const out = new Int16Array(waveform.length);
  for (let i = 0; i < waveform.length; i++) {
    const x = waveform[i];
    out[i] = x >= 1 ? 32767 : x <= -1 ? -32767 : Math.round(x * 32767);
  }
  return out;
}

export class KokoroSynthesizer implements Synthesizer {
  readonly name = 'kokoro' as const;
  private readonly voiceRows = new Map<string, Float32Array>();
  /** Until then requests go to the fallback (a too-slow measurement was made). */
  private slowUntilMs = -Infinity;
  private slowReason: KokoroFallbackReason = 'recently_slow';
  private readonly nowMs: () => number;

  constructor(
    private readonly folder: KokoroFolder,
    private readonly runtime: KokoroRuntime,
    private readonly settings: KokoroSynthesizerSettings,
    private readonly deps: KokoroSynthesizerDeps = {},
  ) {
    this.nowMs = deps.nowMs ?? (() => performance.now());
    const chosen = runtime.checks.find((c) => c.precision === runtime.precision);
    if (chosen?.rtf !== undefined && chosen.rtf >= settings.maxRtf) {
      this.markSlow('warmup_slow');
      deps.log?.warn(
        { precision: runtime.precision, rtf: chosen.rtf, max_rtf: settings.maxRtf },
        'kokoro: slower than real time at load; answers use the fallback voice for now',
      );
    }
  }

  get precision(): string {
    return this.runtime.precision;
  }

  voices(): readonly string[] {
    return [...this.folder.voices.keys()];
  }

  /** The style vector for an input of `inputIdCount` ids (pads included). */
  styleFor(voice: string, inputIdCount: number): Float32Array {
    let rows = this.voiceRows.get(voice);
    if (rows === undefined) {
      const path = this.folder.voices.get(voice);
      if (path === undefined)
        throw new EarshotError(
          'E_TTS_VOICE',
          `Kokoro has no voice ${JSON.stringify(voice)} (voices: ${this.voices().join(', ')}).`,
        );
      rows = readVoice(path);
      this.voiceRows.set(voice, rows);
    }
    const row = styleRowIndex(inputIdCount);
    return rows.slice(row * STYLE_DIM, (row + 1) * STYLE_DIM);
  }

  /** The graph inputs of a request's text, in speaking order (exported for tests). */
  async prepare(text: string, signal?: AbortSignal): Promise<{ sentences: string[]; runs: KokoroRunInput[] }> {
    const sentences = splitSentences(normalizeText(text));
    const phonemes = await phonemizeSentences(sentences, { program: this.settings.espeakProgram, signal });
    return { sentences, runs: phonemes.flatMap((p, s) => this.runsOf(p, s)) };
  }

  private runsOf(phonemes: string, sentence: number): KokoroRunInput[] {
    const runs: KokoroRunInput[] = [];
    for (const part of splitPhonemes(phonemes, this.settings.maxPhonemesPerRun)) {
      const { ids } = tokenize(part, this.folder.vocab);
      if (ids.length > 0) runs.push({ ids: padIds(ids), sentence });
    }
    return runs;
  }

  private fallbackVoiceOf(voice: string): string {
    return this.deps.fallbackVoice?.(voice) ?? voice;
  }

  private markSlow(reason: KokoroFallbackReason): void {
    this.slowUntilMs = this.nowMs() + this.settings.fallbackHoldMs;
    this.slowReason = reason;
  }

  synthesize(request: SynthesisRequest): AsyncIterable<PcmChunk> {
    return this.stream(request);
  }

  private async *stream(request: SynthesisRequest): AsyncGenerator<PcmChunk> {
    const { signal, voice, speed } = request;
    if (!this.folder.voices.has(voice))
      throw new EarshotError(
        'E_TTS_VOICE',
        `Kokoro has no voice ${JSON.stringify(voice)} (voices: ${this.voices().join(', ')}).`,
      );
    const fallback = this.deps.fallback;
    if (fallback !== undefined && this.nowMs() < this.slowUntilMs) {
      this.deps.countFallback?.(this.slowReason === 'warmup_slow' ? 'warmup_slow' : 'recently_slow');
      yield* fallback.synthesize({ ...request, voice: this.fallbackVoiceOf(voice) });
      return;
    }
    try {
      // One espeak process for the whole request; then one graph run per sentence (or 510-phoneme segment).
      const { sentences, runs: allRuns } = await this.prepare(request.text, signal);
      for (let s = 0; s < sentences.length; s++) {
        const runs = allRuns.filter((r) => r.sentence === s);
        let tooSlow = false;
        for (const run of runs) {
          const { waveform, runMs } = await this.runtime.run(
            run.ids,
            this.styleFor(voice, run.ids.length),
            speed,
            signal,
          );
          if (signal.aborted) return;
          yield { pcm: toInt16(waveform), sampleRateHz: KOKORO_SAMPLE_RATE_HZ };
          const audioMs = (waveform.length / KOKORO_SAMPLE_RATE_HZ) * 1000;
          if (audioMs > 0 && runMs / audioMs >= this.settings.maxRtf) tooSlow = true;
        }
        // The sentence being spoken is finished by Kokoro (no voice change mid-sentence); the rest is not.
        const rest = sentences.slice(s + 1).join(' ');
        if (tooSlow) this.markSlow('running_slow');
        if (tooSlow && fallback !== undefined && rest !== '') {
          this.deps.log?.warn(
            { max_rtf: this.settings.maxRtf },
            'kokoro: slower than real time; the rest of the answer uses the fallback voice',
          );
          this.deps.countFallback?.('running_slow');
          yield* fallback.synthesize({ ...request, text: rest, voice: this.fallbackVoiceOf(voice) });
          return;
        }
      }
    } catch (err) {
      if (signal.aborted || (isEarshotError(err) && err.code === 'E_ABORTED')) return;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.runtime.close();
  }
}
