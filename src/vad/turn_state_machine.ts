// Pure turn detection: a function of per-window speech probabilities and sample positions only (no audio,
// no streams, no clocks), so it is tested with arrays of numbers. Phases: quiet -> starting -> speaking.
// Positions are 16 kHz sample indices since the start of the stream.

export interface TurnParams {
  threshold: number;
  /**
   * The reported speech offset is the end of the last window at or above this probability (when the
   * utterance has one). In noise, Silero's probability decays over ~300 ms after speech ends, so the
   * plain threshold reports offsets late; audio ranges still run to where silence was confirmed.
   */
  offsetThreshold: number;
  /**
   * Onset refinement: once speech is confirmed, the onset moves back over the preceding windows whose
   * probability is at least this much above the background (the median of the windows before them), up
   * to the prefix padding. Fricative onsets ("s", "f") score low in Silero but clearly above noise.
   */
  onsetMargin: number;
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
}

export type TurnEvent =
  | { type: 'speech_started'; audioStartSample: number; speechStartSample: number }
  | {
      type: 'speech_stopped';
      audioEndSample: number;
      speechEndSample: number;
      reason: 'silence' | 'max_duration' | 'commit' | 'end_of_stream';
    };

interface WindowFlag {
  start: number;
  speech: boolean;
  strong: boolean;
}

const ONSET_HISTORY_WINDOWS = 32;
const BACKGROUND_WINDOWS = 16;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function reportedOffset(p: { lastSpeechEnd: number; lastStrongEnd: number }): number {
  return p.lastStrongEnd > 0 ? p.lastStrongEnd : p.lastSpeechEnd;
}

type Phase =
  | { kind: 'quiet' }
  | { kind: 'starting'; candidateStart: number; speechWindows: number; strongEnd: number }
  | {
      kind: 'speaking';
      audioStart: number;
      lastSpeechEnd: number;
      /** End of the last window at or above offsetThreshold (-1: none yet). */
      lastStrongEnd: number;
      silenceWindows: number;
      /** Every window since the utterance's audio start: the record the pause search reads. Bounded by the cap. */
      flags: WindowFlag[];
    };

export class TurnStateMachine {
  private phase: Phase = { kind: 'quiet' };
  /** The last ONSET_HISTORY_WINDOWS probabilities, for onset refinement. */
  private readonly recent: { start: number; probability: number }[] = [];
  /** No utterance may start before this sample: the end of the previous one, or a commit/clear point. */
  private floorSample = 0;

  constructor(private params: TurnParams) {
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
    // Onset refinement may move the onset back by up to the prefix padding, which then precedes it.
    return Math.max(this.floorSample, from - 2 * this.params.prefixPaddingSamples);
  }

  /** Feeds one window [start, start + windowSamples) with its speech probability. */
  pushWindow(start: number, probability: number): TurnEvent[] {
    const events: TurnEvent[] = [];
    const isSpeech = probability >= this.params.threshold;
    const end = start + this.params.windowSamples;
    this.recent.push({ start, probability });
    if (this.recent.length > ONSET_HISTORY_WINDOWS) this.recent.shift();
    const p = this.phase;
    if (p.kind === 'speaking' && end > p.audioStart + this.params.maxUtteranceSamples) {
      this.splitAtCap(p, events);
    }
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
        speechEndSample: Math.min(reportedOffset(p), atSample),
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
    const p = this.phase;
    const prm = this.params;
    const isSpeech = probability >= prm.threshold;
    const isStrong = isSpeech && probability >= prm.offsetThreshold;
    if (p.kind === 'quiet') {
      if (!isSpeech || end <= this.floorSample) return;
      this.phase = { kind: 'starting', candidateStart: Math.max(start, this.floorSample), speechWindows: 0, strongEnd: -1 };
      this.advance(start, end, probability, events);
      return;
    }
    if (p.kind === 'starting') {
      if (!isSpeech) {
        this.phase = { kind: 'quiet' };
        return;
      }
      p.speechWindows += 1;
      if (isStrong) p.strongEnd = end;
      if (p.speechWindows < Math.max(1, prm.minSpeechWindows)) return;
      const onset = this.refineOnset(p.candidateStart);
      const audioStart = Math.max(this.floorSample, onset - prm.prefixPaddingSamples);
      const flags: WindowFlag[] = [];
      for (let s = end - p.speechWindows * prm.windowSamples; s < end; s += prm.windowSamples) {
        flags.push({ start: s, speech: true, strong: false });
      }
      this.phase = { kind: 'speaking', audioStart, lastSpeechEnd: end, lastStrongEnd: p.strongEnd, silenceWindows: 0, flags };
      events.push({ type: 'speech_started', audioStartSample: audioStart, speechStartSample: onset });
      return;
    }
    p.flags.push({ start, speech: isSpeech, strong: isStrong });
    if (isSpeech) {
      p.lastSpeechEnd = end;
      if (isStrong) p.lastStrongEnd = end;
      p.silenceWindows = 0;
      return;
    }
    p.silenceWindows += 1;
    if (end - p.lastSpeechEnd >= prm.silenceSamples) {
      const audioEnd = p.lastSpeechEnd + prm.silenceSamples;
      events.push({ type: 'speech_stopped', audioEndSample: audioEnd, speechEndSample: reportedOffset(p), reason: 'silence' });
      this.phase = { kind: 'quiet' };
      this.floorSample = audioEnd;
    }
  }

  private refineOnset(candidateStart: number): number {
    const prm = this.params;
    const at = this.recent.findIndex((w) => w.start === candidateStart);
    if (at <= 0 || prm.onsetMargin >= 1) return candidateStart;
    const background = median(this.recent.slice(Math.max(0, at - BACKGROUND_WINDOWS), at).map((w) => w.probability));
    const lowest = Math.max(this.floorSample, candidateStart - prm.prefixPaddingSamples);
    let onset = candidateStart;
    for (let i = at - 1; i >= 0; i--) {
      const w = this.recent[i];
      if (w.start < lowest || w.probability < background + prm.onsetMargin) break;
      onset = w.start;
    }
    return onset;
  }

  /**
   * The utterance would pass the cap: cut at the middle of the last pause of at least minSplitPauseSamples
   * that lies within the final splitSearchSamples before the cap, else hard-cut at the cap. The next
   * utterance starts exactly at the cut, so no sample is lost.
   */
  private splitAtCap(p: Extract<Phase, { kind: 'speaking' }>, events: TurnEvent[]): void {
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
        const runStart = f.start;
        const prevIsSpeech = i === 0 || p.flags[i - 1].speech;
        if (prevIsSpeech) {
          const mid = Math.floor((runStart + runEnd) / 2);
          // Keep the first piece at least one window long so the next piece's cap lies beyond this window.
          if (runEnd - runStart >= prm.minSplitPauseSamples && mid >= searchFrom && mid >= p.audioStart + prm.windowSamples) {
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
    let speechEndBeforeCut = p.audioStart;
    let strongEndBeforeCut = -1;
    for (const f of p.flags) {
      if (!f.speech || f.start >= cut) continue;
      speechEndBeforeCut = Math.min(f.start + prm.windowSamples, cut);
      if (f.strong) strongEndBeforeCut = speechEndBeforeCut;
    }
    if (strongEndBeforeCut > 0) speechEndBeforeCut = strongEndBeforeCut;
    events.push({ type: 'speech_stopped', audioEndSample: cut, speechEndSample: speechEndBeforeCut, reason: 'max_duration' });
    this.floorSample = cut;
    // Continue from the cut with the windows already seen after it.
    const rest = p.flags.filter((f) => f.start + prm.windowSamples > cut);
    const firstSpeech = rest.find((f) => f.speech);
    if (!firstSpeech) {
      this.phase = { kind: 'quiet' };
      return;
    }
    let lastSpeechEnd = cut;
    let lastStrongEnd = -1;
    let silenceWindows = 0;
    for (const f of rest) {
      if (f.speech) {
        lastSpeechEnd = f.start + prm.windowSamples;
        if (f.strong) lastStrongEnd = lastSpeechEnd;
        silenceWindows = 0;
      } else silenceWindows += 1;
    }
    const speechStart = Math.max(cut, firstSpeech.start);
    this.phase = { kind: 'speaking', audioStart: cut, lastSpeechEnd, lastStrongEnd, silenceWindows, flags: rest };
    events.push({ type: 'speech_started', audioStartSample: cut, speechStartSample: speechStart });
  }
}
