// `earshot bench vad-accuracy`: onset/offset errors of Silero's own window-edge boundaries and of Earshot's
// refined ones, side by side, on every condition of the accuracy set (src/bench/accuracy/). Both run the
// exact offline pipeline (`earshot vad`); "Silero" is the same pipeline with refinement off.
import { defaultConfig, type VadConfig } from '../config/schema.ts';
import { segmentOffline } from '../pipeline/offline.ts';
import type { Utterance } from '../pipeline/types.ts';
import { recordingSileroSource, replaySource } from './accuracy/probabilities.ts';
import { allConditions, buildCondition, conditionName, type Condition } from './accuracy/conditions.ts';
import { scoreCondition, summarize, type ErrorSummary } from './accuracy/score.ts';

export interface AccuracyRow {
  condition: string;
  noise: Condition['noise'];
  snr_db: number;
  channel: Condition['channel'];
  clips: number;
  silero: ErrorSummary;
  earshot: ErrorSummary;
}

/** Refinement off: utterance boundaries at Silero's 32 ms window edges. */
export function rawSileroConfig(vad: VadConfig): VadConfig {
  return { ...vad, refine_search_ms: 0 };
}

export async function measureCondition(
  condition: Condition,
  vad: VadConfig,
  clips?: readonly string[],
): Promise<AccuracyRow> {
  const audio = buildCondition(condition, clips);
  const silero = await recordingSileroSource();
  let refined: Utterance[];
  try {
    refined = await segmentOffline(audio.samples16k, vad, audio.samples8k, silero);
  } finally {
    silero.close();
  }
  const raw = await segmentOffline(
    audio.samples16k,
    rawSileroConfig(vad),
    audio.samples8k,
    replaySource(silero.probabilities),
  );
  return {
    condition: conditionName(condition),
    noise: condition.noise,
    snr_db: condition.snrDb,
    channel: condition.channel,
    clips: audio.truth.length,
    silero: summarize(scoreCondition(raw, audio.truth)),
    earshot: summarize(scoreCondition(refined, audio.truth)),
  };
}

export async function benchVadAccuracy(
  options: { vad?: VadConfig; conditions?: Condition[]; onRow?: (row: AccuracyRow) => void } = {},
): Promise<AccuracyRow[]> {
  const vad = options.vad ?? defaultConfig().vad;
  const rows: AccuracyRow[] = [];
  for (const condition of options.conditions ?? allConditions()) {
    const row = await measureCondition(condition, vad);
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

const HEADER =
  '| condition | clips | onset median (Silero / Earshot) | onset p90 | offset median | offset p90 | missed clips | false utts | missed speech ms | false speech ms |';

/** One markdown table row: every figure as "Silero / Earshot", errors in ms (absolute). */
export function formatRow(r: AccuracyRow): string {
  const pair = (k: keyof ErrorSummary) => `${r.silero[k]} / ${r.earshot[k]}`;
  const cells = [
    r.condition,
    String(r.clips),
    pair('onset_median_ms'),
    pair('onset_p90_ms'),
    pair('offset_median_ms'),
    pair('offset_p90_ms'),
    pair('missed_clips'),
    pair('false_utterances'),
    pair('missed_speech_ms'),
    pair('false_speech_ms'),
  ];
  return `| ${cells.join(' | ')} |`;
}

export function formatTableHeader(): string {
  return `${HEADER}\n|${' --- |'.repeat(10)}`;
}
