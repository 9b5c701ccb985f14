// conversation.item.truncate as a turn (after the response that spoke the item has finished): the
// item's transcript is cut to what the listener heard (spoken_record.ts states the rule), and the
// model's context with it, so the model never "remembers" saying what was not heard. A text answer
// (no audio) has nothing to cut: a valid request is confirmed and the text kept.
import { EarshotError } from '../errors.ts';
import type { MessageItem } from '../protocol/server_items.ts';
import type { Job, TurnHost } from './runtime_types.ts';
import { audioMsOf, heardTranscript } from './spoken_record.ts';

export type TruncateJob = Extract<Job, { type: 'truncate' }>;

export async function runTruncate(host: TurnHost, job: TruncateJob): Promise<void> {
  const { items, emit } = host.opts;
  const item = items.get(job.itemId);
  if (!item)
    throw new EarshotError(
      'E_ITEM_NOT_FOUND',
      `No item ${JSON.stringify(job.itemId.slice(0, 64))} in the conversation.`,
      { param: 'item_id' },
    );
  if (item.type !== 'message' || item.role !== 'assistant') {
    throw new EarshotError('E_INVALID_EVENT', 'Only assistant message items can be truncated.', { param: 'item_id' });
  }
  if (job.contentIndex >= Math.max(1, item.content.length)) {
    throw new EarshotError('E_INVALID_EVENT', `Item ${job.itemId} has no content part ${job.contentIndex}.`, {
      param: 'content_index',
    });
  }
  const audioEndMs = Math.floor(job.audioEndMs);
  const record = items.spokenOf(job.itemId);
  if (record) {
    const audioMs = Math.floor(audioMsOf(record));
    if (audioEndMs > audioMs) {
      throw new EarshotError(
        'E_AUDIO_END_PAST_END',
        `audio_end_ms ${audioEndMs} is past the end of the item's audio (${audioMs} ms).`,
        { param: 'audio_end_ms' },
      );
    }
    const heard = heardTranscript(record, audioEndMs);
    if (heard !== record.transcript) {
      items.put(withTranscript(item, job.contentIndex, heard));
      // Truncated once, the record is the heard part: pieces no longer hold, time maps in proportion.
      items.setSpoken(job.itemId, { transcript: heard, samples24k: Math.round(audioEndMs * 24), pieces: [] });
      await host.existingContext()?.truncateAssistant(job.itemId, record.transcript, heard);
    }
  }
  emit({
    type: 'conversation.item.truncated',
    item_id: job.itemId,
    content_index: job.contentIndex,
    audio_end_ms: audioEndMs,
  });
}

function withTranscript(item: MessageItem, contentIndex: number, transcript: string): MessageItem {
  return {
    ...item,
    content: item.content.map((p, i) => (i === contentIndex && p.type === 'output_audio' ? { ...p, transcript } : p)),
  };
}
