// The ASR / translation pass of one utterance, as a branch of the persistent session: checkpoint, append
// the audio with the task prompt, generate the caption, rewind (the conversation stays clean).
import type { AudioHandle } from '../engine/engine_session.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { TranscriptionConfig } from '../protocol/server_session.ts';
import type { ConversationContext } from './conversation_context.ts';
import { captionTask } from './prompts.ts';

export interface CaptionRequest {
  context: ConversationContext;
  audio: AudioHandle;
  itemId: string;
  /** The input_audio part of the item being captioned (0 for committed speech). */
  contentIndex?: number;
  settings: TranscriptionConfig | null;
  maxTokens: number;
  signal: AbortSignal;
  emit(payload: ServerEventPayload): void;
}

/** Emits the caption's deltas and `completed`; returns the caption (null when aborted). */
export async function runCaption(req: CaptionRequest): Promise<string | null> {
  const { context } = req;
  const task = captionTask(req.settings);
  const checkpoint = await context.checkpoint();
  try {
    const before = context.length;
    await context.appendUserParts([
      { type: 'audio', audio: req.audio },
      { type: 'text', text: task.prompt },
    ]);
    const promptTokens = context.length - before;
    let text = '';
    let completionTokens = 0;
    let aborted = false;
    for await (const event of await context.generate({ maxNewTokens: req.maxTokens }, req.signal)) {
      if (req.signal.aborted) {
        aborted = true;
        break;
      }
      if (event.type === 'delta') {
        if (event.text === '') continue;
        // Leading whitespace of the first token is not part of the caption.
        const delta = text === '' ? event.text.trimStart() : event.text;
        text += delta;
        if (delta !== '') req.emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: req.itemId, content_index: req.contentIndex ?? 0, delta });
      } else {
        completionTokens = event.usage.completionTokens;
        if (event.finishReason === 'aborted') aborted = true;
      }
    }
    if (aborted) return null;
    const transcript = text.trim();
    req.emit({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: req.itemId,
      content_index: req.contentIndex ?? 0,
      transcript,
      usage: {
        type: 'tokens',
        input_tokens: promptTokens,
        output_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        input_token_details: { text_tokens: promptTokens - req.audio.audioTokens, audio_tokens: req.audio.audioTokens },
      },
    });
    return transcript;
  } finally {
    await context.rewind(checkpoint);
  }
}
