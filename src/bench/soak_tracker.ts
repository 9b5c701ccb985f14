// Bookkeeping of a soak: every server event of one realtime session, folded per utterance (commit,
// transcript or reported failure, the answer's status, first text delta and usage) and per block of audio
// time, so that the soak test asserts per utterance and `earshot bench soak` prints per 10-minute block.
// Pure: the caller feeds events with their wall time and the audio position the client had sent.

import { percentile, round } from './stats.ts';

export interface UtteranceRecordSoak {
  itemId: string;
  /** Block of audio time the commit fell in. */
  block: number;
  committedAtMs: number;
  transcribedAtMs?: number;
  transcriptionFailed?: { code: string; message: string };
  responseId?: string;
  responseStatus?: string;
  firstDeltaAtMs?: number;
  responseDoneAtMs?: number;
}

export interface SoakBlockSample {
  block: number;
  rssMb: number;
  kvBytes: number;
  rebuilds: number;
}

type Event = { type: string; [key: string]: unknown };

/** Numeric fields below zero anywhere in a usage object (text_tokens, cached_tokens, ...). */
export function negativeFields(usage: unknown, path = 'usage'): string[] {
  if (typeof usage === 'number') return usage < 0 ? [path] : [];
  if (usage === null || typeof usage !== 'object') return [];
  return Object.entries(usage).flatMap(([k, v]) => negativeFields(v, `${path}.${k}`));
}

/** Usage that does not add up: input != text + audio (+ image), cached > input, anything negative. */
export function usageProblems(usage: unknown): string[] {
  const problems = negativeFields(usage);
  const u = usage as {
    input_tokens?: number;
    input_token_details?: {
      text_tokens?: number;
      audio_tokens?: number;
      image_tokens?: number;
      cached_tokens?: number;
    };
  } | null;
  const d = u?.input_token_details;
  if (u && d && typeof u.input_tokens === 'number') {
    const parts = (d.text_tokens ?? 0) + (d.audio_tokens ?? 0) + (d.image_tokens ?? 0);
    if (parts !== u.input_tokens) problems.push(`input_tokens ${u.input_tokens} != text + audio ${parts}`);
    if ((d.cached_tokens ?? 0) > u.input_tokens)
      problems.push(`cached_tokens ${d.cached_tokens} > input_tokens ${u.input_tokens}`);
  }
  return problems;
}

export class SoakTracker {
  readonly utterances: UtteranceRecordSoak[] = [];
  private readonly byItem = new Map<string, UtteranceRecordSoak>();
  private readonly byResponse = new Map<string, UtteranceRecordSoak>();
  readonly errors: Event[] = [];
  /** Usage objects that do not add up, with where they came from. */
  readonly usageProblems: { where: string; problems: string[] }[] = [];
  negativeUsageFields = 0;
  readonly samples: SoakBlockSample[] = [];

  /** Folds one server event; `block` is the audio block the client had reached when it arrived. */
  onEvent(e: Event, nowMs: number, block: number): void {
    switch (e.type) {
      case 'input_audio_buffer.committed': {
        const u: UtteranceRecordSoak = { itemId: String(e.item_id), block, committedAtMs: nowMs };
        this.utterances.push(u);
        this.byItem.set(u.itemId, u);
        return;
      }
      case 'conversation.item.input_audio_transcription.completed': {
        const u = this.byItem.get(String(e.item_id));
        if (u) u.transcribedAtMs = nowMs;
        this.checkUsage(e.usage, `transcription of ${String(e.item_id)}`);
        return;
      }
      case 'conversation.item.input_audio_transcription.failed': {
        const u = this.byItem.get(String(e.item_id));
        const error = e.error as { code?: string; message?: string } | undefined;
        if (u) u.transcriptionFailed = { code: error?.code ?? 'unknown', message: error?.message ?? '' };
        return;
      }
      case 'response.created': {
        // Turns run in commit order: a response answers the earliest committed utterance that has none yet.
        const id = (e.response as { id: string }).id;
        const u = this.utterances.find((x) => x.responseId === undefined);
        if (u) {
          u.responseId = id;
          this.byResponse.set(id, u);
        }
        return;
      }
      case 'response.output_text.delta': {
        const u = this.byResponse.get(String(e.response_id));
        if (u && u.firstDeltaAtMs === undefined) u.firstDeltaAtMs = nowMs;
        return;
      }
      case 'response.done': {
        const r = e.response as { id: string; status: string; usage?: unknown };
        const u = this.byResponse.get(r.id);
        if (u) {
          u.responseStatus = r.status;
          u.responseDoneAtMs = nowMs;
        }
        this.checkUsage(r.usage, `response ${r.id}`);
        return;
      }
      case 'error':
        this.errors.push(e);
        return;
      default:
        return;
    }
  }

  /** Every committed utterance has its transcript or a reported failure, and its answer is done. */
  settled(answered: boolean): boolean {
    return this.utterances.every(
      (u) =>
        (u.transcribedAtMs !== undefined || u.transcriptionFailed !== undefined) &&
        (!answered || u.responseDoneAtMs !== undefined),
    );
  }

  private checkUsage(usage: unknown, where: string): void {
    if (usage === null || usage === undefined) return;
    this.negativeUsageFields += negativeFields(usage).length;
    const problems = usageProblems(usage);
    if (problems.length > 0) this.usageProblems.push({ where, problems });
  }
}

export interface SoakBlockRow {
  block: number;
  committed: number;
  transcribed: number;
  transcription_failed: number;
  answers: Record<string, number>;
  rebuilds: number;
  transcript_ms_p50: number;
  transcript_ms_p95: number;
  first_delta_ms_p50: number;
  first_delta_ms_p95: number;
  rss_mb: number;
  kv_mb: number;
}

/** Per-block figures: counts, latencies from the commit, and the last memory sample of the block. */
export function blockRows(t: SoakTracker): SoakBlockRow[] {
  const blocks = [...new Set([...t.utterances.map((u) => u.block), ...t.samples.map((s) => s.block)])].sort(
    (a, b) => a - b,
  );
  let rebuildsBefore = 0;
  return blocks.map((block) => {
    const us = t.utterances.filter((u) => u.block === block);
    const sample = t.samples.filter((s) => s.block === block).at(-1);
    const answers: Record<string, number> = {};
    for (const u of us) if (u.responseStatus) answers[u.responseStatus] = (answers[u.responseStatus] ?? 0) + 1;
    const transcriptMs = us.flatMap((u) =>
      u.transcribedAtMs === undefined ? [] : [u.transcribedAtMs - u.committedAtMs],
    );
    const deltaMs = us.flatMap((u) => (u.firstDeltaAtMs === undefined ? [] : [u.firstDeltaAtMs - u.committedAtMs]));
    const rebuilds = (sample?.rebuilds ?? rebuildsBefore) - rebuildsBefore;
    rebuildsBefore = sample?.rebuilds ?? rebuildsBefore;
    return {
      block,
      committed: us.length,
      transcribed: us.filter((u) => u.transcribedAtMs !== undefined).length,
      transcription_failed: us.filter((u) => u.transcriptionFailed !== undefined).length,
      answers,
      rebuilds,
      transcript_ms_p50: round(percentile(transcriptMs, 50), 0),
      transcript_ms_p95: round(percentile(transcriptMs, 95), 0),
      first_delta_ms_p50: round(percentile(deltaMs, 50), 0),
      first_delta_ms_p95: round(percentile(deltaMs, 95), 0),
      rss_mb: round(sample?.rssMb ?? Number.NaN, 1),
      kv_mb: round((sample?.kvBytes ?? Number.NaN) / 2 ** 20, 2),
    };
  });
}

/** p50 of commit -> first text delta over the last tenth of the utterances, over the first tenth's. */
export function lateOverEarly(t: SoakTracker): number {
  const ms = t.utterances.flatMap((u) => (u.firstDeltaAtMs === undefined ? [] : [u.firstDeltaAtMs - u.committedAtMs]));
  const tenth = Math.max(1, Math.floor(ms.length / 10));
  return round(percentile(ms.slice(-tenth), 50) / percentile(ms.slice(0, tenth), 50), 2);
}
