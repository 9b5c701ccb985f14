// `stop` sequences over streamed text: text that may be the start of a stop sequence is held back until
// the next delta decides, so a client never sees any part of a stop sequence.
export class StopScanner {
  private pending = '';
  private stoppedAt = false;
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  get stopped(): boolean {
    return this.stoppedAt;
  }

  /** Text certainly before any stop sequence; after a stop it returns the text up to it, then ''. */
  push(delta: string): string {
    if (this.stoppedAt) return '';
    if (this.stops.length === 0) return delta;
    this.pending += delta;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stoppedAt = true;
      const out = this.pending.slice(0, cut);
      this.pending = '';
      return out;
    }
    const hold = this.heldSuffix();
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** What is still held back when the generation ends without a stop. */
  flush(): string {
    const out = this.stoppedAt ? '' : this.pending;
    this.pending = '';
    return out;
  }

  private heldSuffix(): number {
    for (let n = Math.min(this.longest - 1, this.pending.length); n > 0; n--) {
      const tail = this.pending.slice(this.pending.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) return n;
    }
    return 0;
  }
}
