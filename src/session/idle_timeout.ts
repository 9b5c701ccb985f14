// turn_detection.idle_timeout_ms (server_vad): when the user has said nothing for that much AUDIO time
// (the sample clock, never wall time) since the last response finished or the session started, the
// connection commits the silent stretch as a user item and, with create_response, a response follows.
// It never fires during speech or while a turn or response is pending, and once per idle stretch: the
// next stretch starts when a response finishes (or a later utterance is committed without one).

/** The committed item holds at most this much of the stretch (the most recent audio). */
export const MAX_IDLE_AUDIO_MS = 30_000;

export class IdleTracker {
  /** Audio time the current idle stretch started; null while speech, a turn or a response is pending, or after firing. */
  private sinceMs: number | null = 0;
  private responsesRunning = 0;

  /** Where the stretch starts (for the audio kept), or null when none is counting. */
  get stretchStartMs(): number | null {
    return this.responsesRunning > 0 ? null : this.sinceMs;
  }

  speechStarted(): void {
    this.sinceMs = null;
  }

  /** An utterance was committed: a response follows (the stretch restarts when it is done), or not (it restarts now). */
  utteranceCommitted(endMs: number, responseFollows: boolean): void {
    this.sinceMs = responseFollows ? null : endMs;
  }

  responseStarted(): void {
    this.responsesRunning++;
  }

  responseDone(clockMs: number): void {
    this.responsesRunning = Math.max(0, this.responsesRunning - 1);
    if (this.responsesRunning === 0) this.sinceMs = clockMs;
  }

  /** The stretch to commit when `timeoutMs` of silence has passed at `clockMs` (then it stops counting). */
  check(clockMs: number, timeoutMs: number | null): { startMs: number; endMs: number } | null {
    const since = this.stretchStartMs;
    if (timeoutMs === null || since === null || clockMs - since < timeoutMs) return null;
    this.sinceMs = null;
    return { startMs: since, endMs: clockMs };
  }
}

/** The recent 16 kHz input by absolute sample position, so an idle stretch can be committed as audio. */
export class AudioHistory {
  private chunks: { start: number; samples: Float32Array }[] = [];
  private end = 0;

  append(samples16k: Float32Array): void {
    if (samples16k.length === 0) return;
    this.chunks.push({ start: this.end, samples: samples16k });
    this.end += samples16k.length;
  }

  /** Drops whole chunks that end at or before `sample`. */
  trimBefore(sample: number): void {
    let drop = 0;
    while (drop < this.chunks.length && this.chunks[drop].start + this.chunks[drop].samples.length <= sample) drop++;
    if (drop > 0) this.chunks = this.chunks.slice(drop);
  }

  /** Samples [from, to) still held (what was trimmed is left out). */
  slice(from: number, to: number): Float32Array {
    const out = new Float32Array(Math.max(0, to - from));
    for (const { start, samples } of this.chunks) {
      const a = Math.max(from, start);
      const b = Math.min(to, start + samples.length);
      if (b > a) out.set(samples.subarray(a - start, b - start), a - from);
    }
    return out;
  }
}
