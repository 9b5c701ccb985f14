// Pure turn detection: a function of per-window speech probabilities and sample positions (no streams, no
// clocks), so it is tested with arrays of numbers. Phases: quiet -> starting -> speaking. Positions are
// 16 kHz sample indices since the start of the stream. An optional refiner places the exact onset and
// offset once Silero has decided (src/vad/endpoint_refiner.ts); without one, window edges are used.

export interface TurnParams {
  threshold: number;
  windowSamples: number;
  prefixPaddingSamples: number;
  /** Continuous non-speech that ends an utterance. */
  silenceSamples: number;
  /** Consecutive speech windows needed before an onset counts (shorter blips are clicks). */
  minSpeechWindows: number;
  maxUtteranceSamples: number;
  /** At the cap, how far back from the cap a pause may lie to split at. */
  splitSearchSamples: number;
  minSplitPauseSamples: number;
  /** Audio the refiner reads before an onset candidate (search range + noise floor), kept in memory. */
  refineLookbackSamples: number;
}

/** Places exact endpoints near Silero's window edges; both results stay within the given bounds. */
export interface EndpointHooks {
  /** Exact onset near `approx`, never before `lowest`, from audio before `seenEnd` only (the end of the
   * window that confirmed the speech: what lies beyond depends on how the audio was chunked). */
  onset(approx: number, lowest: number, seenEnd: number): number;
  /** Exact offset near `approx` (end of the last speech window), never before `lowest` nor after
   * `silenceEnd` (how far the confirmed silence reaches: a weak tail Silero dropped may lie in it).
   * `finalPeakProbability`: Silero's highest probability over the last TRAILING_SPEECH_WINDOWS speech
   * windows (high: it let go decisively; just over the threshold: it was fading out). */
  offset(approx: number, silenceEnd: number, lowest: number, finalPeakProbability: number): number;
}

export type TurnEvent =
  | { type: 'speech_started'; audioStartSample: number; speechStartSample: number }
  | {
      type: 'speech_stopped';
      audioEndSample: number;
      speechEndSample: number;
      reason: 'silence' | 'max_duration' | 'commit' | 'end_of_stream';
    };

/** Speech windows before an offset whose probabilities tell a decisive end from a fading one. */
export const TRAILING_SPEECH_WINDOWS = 3;

interface WindowFlag {
  start: number;
  speech: boolean;
}

type Speaking = {
  kind: 'speaking';
  audioStart: number;
  speechStart: number;
  lastSpeechEnd: number;
  /** Probabilities of the latest speech windows (at most TRAILING_SPEECH_WINDOWS). */
  trailing: number[];
  /** Every window since the utterance's audio start: the record the pause search reads. Bounded by the cap. */
  flags: WindowFlag[];
};

type Phase = { kind: 'quiet' } | { kind: 'starting'; candidateStart: number; speechWindows: number } | Speaking;

export class TurnStateMachine {
  private phase: Phase = { kind: 'quiet' };
  /** No utterance may start before this sample: the end of the previous one, or a commit/clear point. */
  private floorSample = 0;

  constructor(
    private params: TurnParams,
    private readonly endpoints?: EndpointHooks,
  ) {
    if (params.windowSamples <= 0) throw new RangeError('windowSamples must be positive');
  }

  /** Replaces the parameters from the next window on (session.update during a session). */
  setParams(params: TurnParams): void {
    if (params.windowSamples !== this.params.windowSamples) throw new RangeError('windowSamples cannot change');
    this.params = params;
  }

  get speaking(): boolean {
    return this.phase.kind === 'speaking';
  }

  /** Lowest sample the caller must still keep to build future utterances. */
  retainFromSample(nextWindowStart: number): number {
    const p = this.phase;
    if (p.kind === 'speaking') return p.audioStart;
    const from = p.kind === 'starting' ? p.candidateStart : nextWindowStart;
    return Math.max(this.floorSample, from - this.params.prefixPaddingSamples - this.params.refineLookbackSamples);
  }

  /** Feeds one window [start, start + windowSamples) with its speech probability. */
  pushWindow(start: number, probability: number): TurnEvent[] {
    const events: TurnEvent[] = [];
    const end = start + this.params.windowSamples;
    const p = this.phase;
    if (p.kind === 'speaking' && end > p.audioStart + this.params.maxUtteranceSamples) this.splitAtCap(p, events);
    this.advance(start, end, probability, events);
    return events;
  }

  /** Ends the current utterance at `atSample` (manual commit with VAD on, or end of stream). */
  forceEnd(atSample: number, reason: 'commit' | 'end_of_stream'): TurnEvent[] {
    const p = this.phase;
    const events: TurnEvent[] = [];
    if (p.kind === 'speaking') {
      events.push({
        type: 'speech_stopped',
        audioEndSample: atSample,
        speechEndSample: Math.min(p.lastSpeechEnd, atSample),
        reason,
      });
    }
    this.phase = { kind: 'quiet' };
    this.floorSample = Math.max(this.floorSample, atSample);
    return events;
  }

  /** Drops any speech in progress (input_audio_buffer.clear); nothing before `atSample` will be used. */
  reset(atSample: number): void {
    this.phase = { kind: 'quiet' };
    this.floorSample = Math.max(this.floorSample, atSample);
  }

  private advance(start: number, end: number, probability: number, events: TurnEvent[]): void {
    const isSpeech = probability >= this.params.threshold;
    const p = this.phase;
    const prm = this.params;
    if (p.kind === 'quiet') {
      if (!isSpeech || end <= this.floorSample) return;
      this.phase = { kind: 'starting', candidateStart: Math.max(start, this.floorSample), speechWindows: 0 };
      this.advance(start, end, probability, events);
      return;
    }
    if (p.kind === 'starting') {
      if (!isSpeech) {
        this.phase = { kind: 'quiet' };
        return;
      }
      p.speechWindows += 1;
      if (p.speechWindows < Math.max(1, prm.minSpeechWindows)) return;
      const onset = this.endpoints ? this.endpoints.onset(p.candidateStart, this.floorSample, end) : p.candidateStart;
      const audioStart = Math.max(this.floorSample, onset - prm.prefixPaddingSamples);
      const flags: WindowFlag[] = [];
      for (let s = end - p.speechWindows * prm.windowSamples; s < end; s += prm.windowSamples)
        flags.push({ start: s, speech: true });
      this.phase = {
        kind: 'speaking',
        audioStart,
        speechStart: onset,
        lastSpeechEnd: end,
        trailing: [probability],
        flags,
      };
      events.push({ type: 'speech_started', audioStartSample: audioStart, speechStartSample: onset });
      return;
    }
    p.flags.push({ start, speech: isSpeech });
    if (isSpeech) {
      p.lastSpeechEnd = end;
      p.trailing.push(probability);
      if (p.trailing.length > TRAILING_SPEECH_WINDOWS) p.trailing.shift();
      return;
    }
    if (end - p.lastSpeechEnd >= prm.silenceSamples) {
      const offset = this.endpoints
        ? this.endpoints.offset(p.lastSpeechEnd, end, p.speechStart, Math.max(...p.trailing))
        : p.lastSpeechEnd;
      // As OpenAI's audio_end_ms: the utterance's audio includes the silence the detector waited for (up
      // to the audio received so far, when the refiner found a tail past Silero's last speech window).
      const audioEnd = Math.min(end, Math.max(offset + prm.silenceSamples, p.audioStart + 1));
      events.push({ type: 'speech_stopped', audioEndSample: audioEnd, speechEndSample: offset, reason: 'silence' });
      this.phase = { kind: 'quiet' };
      this.floorSample = audioEnd;
    }
  }

  /**
   * The utterance would pass the cap: cut at the middle of the last pause of at least minSplitPauseSamples
   * that lies within the final splitSearchSamples before the cap, else hard-cut at the cap. The next
   * utterance starts exactly at the cut, so no sample is lost.
   */
  private splitAtCap(p: Speaking, events: TurnEvent[]): void {
    const prm = this.params;
    const cap = p.audioStart + prm.maxUtteranceSamples;
    const searchFrom = cap - prm.splitSearchSamples;
    let cut = cap;
    let runEnd = -1;
    // Walk back over the recorded windows looking for the latest qualifying non-speech run.
    for (let i = p.flags.length - 1; i >= 0; i--) {
      const f = p.flags[i];
      const fEnd = Math.min(f.start + prm.windowSamples, cap);
      if (!f.speech) {
        if (runEnd < 0) runEnd = fEnd;
        const prevIsSpeech = i === 0 || p.flags[i - 1].speech;
        if (prevIsSpeech) {
          const mid = Math.floor((f.start + runEnd) / 2);
          // Keep the first piece at least one window long so the next piece's cap lies beyond this window.
          if (
            runEnd - f.start >= prm.minSplitPauseSamples &&
            mid >= searchFrom &&
            mid >= p.audioStart + prm.windowSamples
          ) {
            cut = mid;
            break;
          }
          runEnd = -1;
        }
      } else {
        runEnd = -1;
      }
      if (fEnd < searchFrom) break;
    }
    let speechEndBeforeCut = p.speechStart;
    for (const f of p.flags)
      if (f.speech && f.start < cut) speechEndBeforeCut = Math.min(f.start + prm.windowSamples, cut);
    events.push({
      type: 'speech_stopped',
      audioEndSample: cut,
      speechEndSample: speechEndBeforeCut,
      reason: 'max_duration',
    });
    this.floorSample = cut;
    // Continue from the cut with the windows already seen after it.
    const rest = p.flags.filter((f) => f.start + prm.windowSamples > cut);
    const firstSpeech = rest.find((f) => f.speech);
    if (!firstSpeech) {
      this.phase = { kind: 'quiet' };
      return;
    }
    let lastSpeechEnd = cut;
    for (const f of rest) if (f.speech) lastSpeechEnd = f.start + prm.windowSamples;
    const speechStart = Math.max(cut, firstSpeech.start);
    this.phase = {
      kind: 'speaking',
      audioStart: cut,
      speechStart,
      lastSpeechEnd,
      trailing: [...p.trailing],
      flags: rest,
    };
    events.push({ type: 'speech_started', audioStartSample: cut, speechStartSample: speechStart });
  }
}
