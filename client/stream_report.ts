// What `earshot stream` prints while a file streams: captions and answers as text lines, or one JSON
// object per line (--json). Driven by SessionModel changes, so it prints exactly what the page shows.
import type { ServerEvent } from '../src/protocol/server_events.ts';
import { formatTimestamp } from './core/transcript_export.ts';
import { medianMs } from './core/latency_meter.ts';
import type { SessionModel } from './core/session_model.ts';

export type StreamRecord =
  | { type: 'utterance'; item_id: string; start_ms: number | null; end_ms: number }
  | { type: 'caption'; item_id: string; start_ms: number | null; end_ms: number | null; text: string }
  | { type: 'answer'; response_id: string; item_id: string; text: string; status: string }
  | { type: 'tool_call'; call_id: string; name: string; arguments: string; output: string | null }
  | { type: 'interruption'; response_id: string; partial_text: string }
  | { type: 'error'; code: string; message: string }
  | {
      type: 'summary';
      audio_ms: number;
      utterances: number;
      captions: number;
      answers: number;
      interruptions: number;
      median_caption_latency_ms: number | null;
      median_answer_latency_ms: number | null;
    };

/** The records one event (already applied to `model`) produces. */
export function recordsFor(event: ServerEvent, model: SessionModel): StreamRecord[] {
  switch (event.type) {
    case 'input_audio_buffer.speech_stopped': {
      const caption = model.captions.byId(event.item_id);
      return [
        { type: 'utterance', item_id: event.item_id, start_ms: caption?.startMs ?? null, end_ms: event.audio_end_ms },
      ];
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const c = model.captions.byId(event.item_id);
      return [
        {
          type: 'caption',
          item_id: event.item_id,
          start_ms: c?.startMs ?? null,
          end_ms: c?.endMs ?? null,
          text: event.transcript.trim(),
        },
      ];
    }
    case 'response.done': {
      // One answer record per assistant message, printed once the response has ended, so it carries the
      // response's real status (an answer cut by the token limit also gets output_text.done first).
      const out: StreamRecord[] = [];
      for (const m of model.conversation.assistantMessages()) {
        if (m.responseId === event.response.id && m.text !== '') {
          out.push({
            type: 'answer',
            response_id: event.response.id,
            item_id: m.itemId,
            text: m.text,
            status: event.response.status,
          });
        }
      }
      const reason = event.response.status_details?.reason;
      if (event.response.status === 'cancelled' && reason === 'turn_detected') {
        const partial = out.map((r) => (r.type === 'answer' ? r.text : '')).join('');
        out.push({ type: 'interruption', response_id: event.response.id, partial_text: partial });
      }
      return out;
    }
    case 'conversation.item.added':
    case 'conversation.item.created':
    case 'response.output_item.done': {
      if (event.item.type !== 'function_call_output') return [];
      const card = model.conversation
        .toolCalls()
        .find((c) => c.callId === (event.item.type === 'function_call_output' ? event.item.call_id : ''));
      return card
        ? [{ type: 'tool_call', call_id: card.callId, name: card.name, arguments: card.arguments, output: card.output }]
        : [];
    }
    case 'error':
      return [{ type: 'error', code: event.error.code, message: event.error.message }];
    default:
      return [];
  }
}

export function summaryRecord(model: SessionModel, audioMs: number): StreamRecord {
  const samples = model.latency.all();
  return {
    type: 'summary',
    audio_ms: Math.round(audioMs),
    utterances: model.committedItems.length,
    captions: model.captions.finals().length,
    answers: model.conversation.assistantMessages().filter((m) => m.text !== '').length,
    interruptions: model.conversation.interruptions,
    median_caption_latency_ms: roundOrNull(medianMs(samples.map((s) => s.captionMs))),
    median_answer_latency_ms: roundOrNull(medianMs(samples.map((s) => s.answerMs))),
  };
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

const time = (ms: number | null) => (ms === null ? '--:--:--.---' : formatTimestamp(ms, '.'));

/** One human-readable line per record; null for records the text output leaves out. */
export function formatRecord(record: StreamRecord): string | null {
  switch (record.type) {
    case 'utterance':
      return null; // the caption line carries the same times; without transcripts the summary counts them
    case 'caption':
      return `[${time(record.start_ms)} --> ${time(record.end_ms)}] ${record.text}`;
    case 'answer':
      return `assistant${record.status === 'completed' ? '' : ` (${record.status})`}: ${record.text}`;
    case 'tool_call':
      return `tool ${record.name}(${record.arguments}) -> ${record.output ?? '(no result)'}`;
    case 'interruption':
      return '-- interrupted by the caller --';
    case 'error':
      return `error ${record.code}: ${record.message}`;
    case 'summary': {
      const latency = [
        record.median_caption_latency_ms === null ? null : `caption ${record.median_caption_latency_ms} ms`,
        record.median_answer_latency_ms === null ? null : `answer ${record.median_answer_latency_ms} ms`,
      ].filter(Boolean);
      return (
        `${(record.audio_ms / 1000).toFixed(2)} s streamed: ${record.utterances} utterance(s), ${record.captions} caption(s), ` +
        `${record.answers} answer(s), ${record.interruptions} interruption(s)` +
        (latency.length > 0 ? `; median end-of-speech to first text: ${latency.join(', ')}` : '')
      );
    }
  }
}
