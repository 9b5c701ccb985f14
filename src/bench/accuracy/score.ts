// Scoring detected utterances against the truth: signed onset/offset errors per clip (+ = late), clips
// missed, utterances with no speech under them, and the speech time missed or falsely marked.
import type { TruthSegment } from './conditions.ts';

export interface DetectedSpeech {
  speechStartMs: number;
  speechEndMs: number;
}

export interface ConditionScore {
  /** Signed errors in ms, one per detected clip (+ = late). */
  onsetErrorsMs: number[];
  offsetErrorsMs: number[];
  /** Clips with no detected utterance overlapping them. */
  missedClips: number;
  /** Detected utterances overlapping no clip. */
  falseUtterances: number;
  /** Truth speech not inside any detected speech range, and detected speech outside all truth, in ms. */
  missedSpeechMs: number;
  falseSpeechMs: number;
}

const overlaps = (a: DetectedSpeech, t: TruthSegment) => a.speechStartMs < t.offsetMs && a.speechEndMs > t.onsetMs;

function overlapMs(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/**
 * A clip's onset error comes from the first detected utterance overlapping it, its offset error from the
 * last one (a clip split at an inner pause still has one onset and one offset).
 */
export function scoreCondition(detected: DetectedSpeech[], truth: TruthSegment[]): ConditionScore {
  const score: ConditionScore = {
    onsetErrorsMs: [],
    offsetErrorsMs: [],
    missedClips: 0,
    falseUtterances: 0,
    missedSpeechMs: 0,
    falseSpeechMs: 0,
  };
  for (const t of truth) {
    const hits = detected.filter((d) => overlaps(d, t));
    let covered = 0;
    for (const d of hits) covered += overlapMs(d.speechStartMs, d.speechEndMs, t.onsetMs, t.offsetMs);
    score.missedSpeechMs += t.offsetMs - t.onsetMs - covered;
    if (hits.length === 0) {
      score.missedClips++;
      continue;
    }
    score.onsetErrorsMs.push(hits[0].speechStartMs - t.onsetMs);
    score.offsetErrorsMs.push(hits[hits.length - 1].speechEndMs - t.offsetMs);
  }
  for (const d of detected) {
    if (!truth.some((t) => overlaps(d, t))) score.falseUtterances++;
    let inside = 0;
    for (const t of truth) inside += overlapMs(d.speechStartMs, d.speechEndMs, t.onsetMs, t.offsetMs);
    score.falseSpeechMs += d.speechEndMs - d.speechStartMs - inside;
  }
  return score;
}

/** Nearest-rank percentile of |values| (p in [0, 1]); NaN for none. */
export function absPercentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.map(Math.abs).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export interface ErrorSummary {
  onset_median_ms: number;
  onset_p90_ms: number;
  offset_median_ms: number;
  offset_p90_ms: number;
  missed_clips: number;
  false_utterances: number;
  missed_speech_ms: number;
  false_speech_ms: number;
}

export function summarize(score: ConditionScore): ErrorSummary {
  return {
    onset_median_ms: Math.round(absPercentile(score.onsetErrorsMs, 0.5)),
    onset_p90_ms: Math.round(absPercentile(score.onsetErrorsMs, 0.9)),
    offset_median_ms: Math.round(absPercentile(score.offsetErrorsMs, 0.5)),
    offset_p90_ms: Math.round(absPercentile(score.offsetErrorsMs, 0.9)),
    missed_clips: score.missedClips,
    false_utterances: score.falseUtterances,
    missed_speech_ms: Math.round(score.missedSpeechMs),
    false_speech_ms: Math.round(score.falseSpeechMs),
  };
}
