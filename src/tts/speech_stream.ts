// One answer's speech: text deltas in, 24 kHz PCM out, in text order. Pieces cut by the splitter are
// synthesised up to `pipelineDepth` ahead of the one being consumed (sentence n+1 while n plays), each
// resampled from the engine's native rate with its own streaming resampler (state kept across the engine's
// chunks, so chunk edges add no clicks). cancel() aborts every in-flight synthesis and ends the audio.
import { StreamingResampler } from '../audio/resample.ts';
import { EarshotError } from '../errors.ts';
import { float32ToInt16, int16ToFloat32 } from '../audio/pcm.ts';
import type { TtsStreamConfig } from '../config/tts_schema.ts';
import { SentenceSplitter } from './sentence_splitter.ts';
import { SpeakableText } from './speakable_text.ts';
import { SPEECH_OUTPUT_RATE_HZ, type SpeechStream, type Synthesizer } from './synthesizer.ts';

export interface SpeechStreamOptions {
  synthesizer: Synthesizer;
  /** Engine voice id (already mapped from an OpenAI name). */
  voice: string;
  speed: number;
  bounds: TtsStreamConfig;
  /** Called once when text is dropped past bounds.max_buffered_chars (the transcript still has it). */
  onOverflow?: (droppedChars: number) => void;
}

interface Job {
  text: string;
  /** The piece as the splitter cut it from the answer (before cleanup), and the 24 kHz samples yielded of it. */
  raw: string;
  yielded: number;
  chunks: Int16Array[];
  done: boolean;
  error: unknown;
  controller: AbortController;
  started: boolean;
  /** Audio has come out (or the job ended): the next sentence may start without delaying this one. */
  producing: boolean;
}

export class PipelinedSpeechStream implements SpeechStream {
  readonly audio: AsyncIterable<Int16Array>;
  private readonly options: SpeechStreamOptions;
  private readonly splitter: SentenceSplitter;
  private readonly speakable = new SpeakableText();
  private readonly jobs: Job[] = [];
  private consumed = 0; // jobs fully handed to the consumer
  private ended = false;
  private cancelled = false;
  private queuedChars = 0; // text of cut pieces not yet fully consumed
  private droppedChars = 0;
  private firstCutTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** Pieces fully yielded, for spokenPieces(). */
  private readonly spoken: Array<{ text: string; samples: number }> = [];

  constructor(options: SpeechStreamOptions) {
    this.options = options;
    const b = options.bounds;
    this.splitter = new SentenceSplitter({
      firstCutMinChars: b.first_cut_min_chars,
      firstCutWaitMs: b.first_cut_wait_ms,
      minSentenceChars: b.min_sentence_chars,
      maxSentenceChars: b.max_sentence_chars,
    });
    this.audio = { [Symbol.asyncIterator]: () => this.iterate() };
  }

  /** Characters dropped because more text was waiting than bounds.max_buffered_chars. */
  get droppedTextChars(): number {
    return this.droppedChars;
  }

  push(textDelta: string): void {
    if (this.ended || textDelta === '') return;
    // Past the bound, the rest of the answer is not spoken at all: a later fragment after a gap would mislead.
    if (
      this.droppedChars > 0 ||
      this.splitter.pendingChars + this.queuedChars + textDelta.length > this.options.bounds.max_buffered_chars
    ) {
      if (this.droppedChars === 0) this.options.onOverflow?.(textDelta.length);
      this.droppedChars += textDelta.length;
      return;
    }
    this.addPieces(this.splitter.push(textDelta, Date.now()));
    this.armFirstCutTimer();
  }

  end(): void {
    if (this.ended) return;
    this.clearFirstCutTimer();
    this.addPieces(this.splitter.end());
    this.ended = true;
    this.notify();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.ended = true;
    this.clearFirstCutTimer();
    for (const job of this.jobs) job?.controller.abort(); // spoken jobs are released (undefined)
    this.notify();
  }

  /** The pieces whose audio was yielded, in order (the one being yielded last, with its samples so far). */
  spokenPieces(): ReadonlyArray<{ text: string; samples: number }> {
    const current = this.jobs[this.consumed];
    return current !== undefined && current.yielded > 0
      ? [...this.spoken, { text: current.raw, samples: current.yielded }]
      : this.spoken;
  }

  private addPieces(pieces: string[]): void {
    for (const piece of pieces) {
      const text = this.speakable.clean(piece);
      if (text === '') continue;
      this.queuedChars += text.length;
      this.jobs.push({
        text,
        raw: piece,
        yielded: 0,
        chunks: [],
        done: false,
        error: null,
        controller: new AbortController(),
        started: false,
        producing: false,
      });
    }
    this.startJobs();
  }

  private armFirstCutTimer(): void {
    this.clearFirstCutTimer();
    const due = this.splitter.firstCutDueAtMs;
    if (due === null) return;
    this.firstCutTimer = setTimeout(
      () => {
        this.firstCutTimer = null;
        if (this.ended) return;
        this.addPieces(this.splitter.tick(Date.now()));
        this.armFirstCutTimer();
      },
      Math.max(0, due - Date.now()),
    );
  }

  private clearFirstCutTimer(): void {
    if (this.firstCutTimer) clearTimeout(this.firstCutTimer);
    this.firstCutTimer = null;
  }

  /**
   * Starts the jobs within pipelineDepth of the one being consumed, each once the one before it produces
   * audio: starting them all at once made the first sentence's engine share the CPU with the next ones
   * and delayed the first audio (measured ~80 ms on the loaded 2-core build machine with espeak-ng).
   */
  private startJobs(): void {
    const limit = Math.min(this.jobs.length, this.consumed + 1 + this.options.bounds.pipeline_depth);
    for (let i = this.consumed; i < limit && !this.cancelled; i++) {
      const job = this.jobs[i];
      if (!job.started) void this.run(job);
      if (!job.producing) return;
    }
  }

  private async run(job: Job): Promise<void> {
    job.started = true;
    const { synthesizer, voice, speed } = this.options;
    let resampler: StreamingResampler | null = null;
    try {
      for await (const chunk of synthesizer.synthesize({
        text: job.text,
        voice,
        speed,
        signal: job.controller.signal,
      })) {
        if (job.controller.signal.aborted) break;
        resampler ??= new StreamingResampler(chunk.sampleRateHz, SPEECH_OUTPUT_RATE_HZ);
        if (resampler.inputRateHz !== chunk.sampleRateHz) {
          throw new EarshotError(
            'E_TTS_ENGINE',
            `The voice engine changed its sample rate within one sentence (${resampler.inputRateHz} -> ${chunk.sampleRateHz} Hz).`,
          );
        }
        this.deliver(job, resampler.push(int16ToFloat32(chunk.pcm)));
      }
      if (resampler && !job.controller.signal.aborted) this.deliver(job, resampler.flush());
    } catch (err) {
      if (!job.controller.signal.aborted) job.error = err;
    } finally {
      job.done = true;
      this.markProducing(job);
      this.notify();
    }
  }

  private deliver(job: Job, samples: Float32Array): void {
    if (samples.length === 0) return;
    job.chunks.push(float32ToInt16(samples));
    this.markProducing(job);
    this.notify();
  }

  private markProducing(job: Job): void {
    if (job.producing) return;
    job.producing = true;
    // After the consumer has had this audio: spawning the next engine process is synchronous and costs
    // tens of ms on a loaded machine, which would otherwise come before the first audio is handed on.
    setImmediate(() => {
      if (!this.cancelled) this.startJobs();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private async *iterate(): AsyncGenerator<Int16Array> {
    let complete = false;
    try {
      for (;;) {
        if (this.cancelled) return;
        const job = this.jobs[this.consumed];
        if (job === undefined) {
          if (this.ended) {
            complete = true;
            return;
          }
          await this.waitForChange();
          continue;
        }
        const chunk = job.chunks.shift();
        if (chunk !== undefined) {
          job.yielded += chunk.length;
          yield chunk;
          continue;
        }
        if (!job.done) {
          await this.waitForChange();
          continue;
        }
        if (job.error) throw job.error;
        this.queuedChars -= job.text.length;
        if (job.yielded > 0) this.spoken.push({ text: job.raw, samples: job.yielded });
        this.jobs[this.consumed] = undefined as unknown as Job; // release the audio of spoken sentences
        this.consumed++;
        this.startJobs();
      }
    } finally {
      if (!complete) this.cancel(); // a consumer that stops early (or an error) stops the synthesis
    }
  }
}
