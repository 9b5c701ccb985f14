// Shared checks for the VAD accuracy tests: match detected utterances to truth and explain any miss with the
// measured numbers (so a failure says by how much, not just that it failed).
import type { Utterance } from '../../../src/pipeline/types.ts';
import type { TruthSegment } from '../../helpers/speech_fixtures.ts';

/**
 * Spec tolerances (integrator's brief): detected onset within 150 ms and offset within 250 ms of the truth.
 * Measured with the default VAD config over white noise of peak 0.01 (Silero v4): onsets -8..+176 ms
 * (the late ones are fricative-initial card words, "seven", "four", "five"; the 300 ms prefix padding covers
 * them), offsets -20..+500 ms (LibriVox: Silero's probability decays slowly in white noise after speech,
 * e.g. 0.99 -> 0.49 over 300 ms of noise alone; with no added noise the same clips stay within +102 ms).
 */
export const ONSET_TOLERANCE_MS = 150;
export const OFFSET_TOLERANCE_MS = 250;

export interface Measured {
  truth: TruthSegment;
  utterance: Utterance;
  onsetErrorMs: number;
  offsetErrorMs: number;
}

/** Pairs utterance i with truth i (counts are asserted equal first) and measures signed errors (+ = late). */
export function measure(utterances: Utterance[], truth: TruthSegment[]): Measured[] {
  return truth.map((t, i) => ({
    truth: t,
    utterance: utterances[i],
    onsetErrorMs: utterances[i].speechStartMs - t.onsetMs,
    offsetErrorMs: utterances[i].speechEndMs - t.offsetMs,
  }));
}

export function describeMeasured(measured: Measured[]): string {
  return measured
    .map(
      (m, i) =>
        `#${i}: truth ${m.truth.onsetMs.toFixed(0)}-${m.truth.offsetMs.toFixed(0)} ms, detected ` +
        `${m.utterance.speechStartMs.toFixed(0)}-${m.utterance.speechEndMs.toFixed(0)} ms (${m.utterance.endReason}), ` +
        `onset error ${m.onsetErrorMs.toFixed(0)} ms, offset error ${m.offsetErrorMs.toFixed(0)} ms`,
    )
    .join('\n');
}

export function describeSegments(utterances: Utterance[]): string {
  return utterances
    .map(
      (u) =>
        `${u.speechStartMs.toFixed(0)}-${u.speechEndMs.toFixed(0)} ms [${u.startSample}, ${u.endSample}) ${u.endReason}`,
    )
    .join('\n');
}
