// turn_detection.idle_timeout_ms (server_vad): when the user has said nothing for that much AUDIO time
// (the sample clock, never wall time) since the last response finished or the session started, the
// connection commits the silent stretch as a user item and, with create_response, a response follows.
// It never fires during speech or while a turn or response is pending, and once per idle stretch: the
// next stretch starts when a response finishes, a later utterance is committed without one, or the
// queued turns finish without a response (an answer that failed before response.created, say).

/** The committed item holds at most this much of the stretch (the most recent audio). */
export const MAX_IDLE_AUDIO_MS = 30_000;

export class IdleTracker {
  /** Audio time the current idle stretch started; null while speech, a turn or a response is pending, or after firing. */
  private sinceMs: number | null = 0;
  private responsesRunning = 0;
  private speaking = false;
  /** Fired in this stretch: only speech, a commit or a response starts the next one. */
  private fired = false;

  /** Where the stretch starts (for the audio kept), or null when none is counting. */
  get stretchStartMs(): number | null {
    return this.responsesRunning > 0 ? null : this.sinceMs;
  }

  speechStarted(): void {
    this.speaking = true;
    this.sinceMs = null;
    this.fired = false;
  }

  /** An utterance was committed: a response follows (the stretch restarts when it is done), or not (it restarts now). */
  utteranceCommitted(endMs: number, responseFollows: boolean): void {
    this.speaking = false;
    this.fired = false;
    this.sinceMs = responseFollows ? null : endMs;
  }

  /** The input buffer was cleared: speech in progress is gone, so silence counts from now. */
  cleared(clockMs: number): void {
    if (!this.speaking) return;
    this.speaking = false;
    this.sinceMs = clockMs;
  }

  responseStarted(): void {
    this.responsesRunning++;
  }

  responseDone(clockMs: number): void {
    this.responsesRunning = Math.max(0, this.responsesRunning - 1);
    if (this.responsesRunning === 0) {
      this.sinceMs = clockMs;
      this.fired = false;
    }
  }

  /**
   * The stretch to commit when `timeoutMs` of silence has passed at `clockMs` (then it stops counting).
   * `turnsPending`: turns are queued or running (a response.create not started yet, an answer in progress).
   */
  check(clockMs: number, timeoutMs: number | null, turnsPending = false): { startMs: number; endMs: number } | null {
    if (turnsPending) return null;
    // Nothing pending, nobody speaking, no response, yet not counting: the awaited response never came.
    if (this.sinceMs === null && !this.speaking && !this.fired && this.responsesRunning === 0) this.sinceMs = clockMs;
    const since = this.stretchStartMs;
    if (timeoutMs === null || since === null || clockMs - since < timeoutMs) return null;
    this.sinceMs = null;
    this.fired = true;
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
