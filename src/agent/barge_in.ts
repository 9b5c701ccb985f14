// Decides when user speech interrupts a response. Speech must last `minSpeechMs` (in audio time, from the
// sample clock) before it counts, so a cough or an "mhm" does not cut an answer off.

export class BargeInDetector {
  private speechStartMs: number | null = null;
  private fired = false;

  constructor(private minSpeechMs: number) {}

  setMinSpeechMs(ms: number): void {
    this.minSpeechMs = ms;
  }

  /** Returns true when the interruption is due immediately. */
  speechStarted(speechStartMs: number, clockMs: number): boolean {
    this.speechStartMs = speechStartMs;
    this.fired = false;
    return this.check(clockMs);
  }

  /** Audio time advanced (ms since the stream began). True when speech has now lasted long enough. */
  clock(clockMs: number): boolean {
    return this.check(clockMs);
  }

  /** Speech ended at `speechEndMs`: true when it was long enough and had not fired yet. */
  speechStopped(speechEndMs: number): boolean {
    const due = this.check(speechEndMs);
    this.speechStartMs = null;
    return due;
  }

  private check(nowMs: number): boolean {
    if (this.speechStartMs === null || this.fired) return false;
    if (nowMs - this.speechStartMs < this.minSpeechMs) return false;
    this.fired = true;
    return true;
  }
}
