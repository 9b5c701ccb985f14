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
    const promptTokens = Math.max(0, context.length - before);
    let text = '';
    let completionTokens = 0;
    let attended: { contextTokens?: number; audioTokens?: number } = {};
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
        if (delta !== '')
          req.emit({
            type: 'conversation.item.input_audio_transcription.delta',
            item_id: req.itemId,
            content_index: req.contentIndex ?? 0,
            delta,
          });
      } else {
        completionTokens = event.usage.completionTokens;
        attended = event.usage;
        if (event.finishReason === 'aborted') aborted = true;
      }
    }
    if (aborted) return null;
    const transcript = text.trim();
    const usage = transcriptionUsage(attended, promptTokens, req.audio.audioTokens, completionTokens);
    req.emit({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: req.itemId,
      content_index: req.contentIndex ?? 0,
      transcript,
      usage,
    });
    return transcript;
  } finally {
    // Whatever happened (done, aborted, failed), the caption leaves no trace in the conversation.
    await context.restore(checkpoint);
  }
}

/**
 * What the caption attended to and generated: the whole context when it started (the conversation, the
 * clip and the task prompt), split into text and audio; engines that do not say fall back to the turn.
 */
export function transcriptionUsage(
  attended: { contextTokens?: number; audioTokens?: number },
  promptTokens: number,
  clipAudioTokens: number,
  completionTokens: number,
) {
  const input = Math.max(0, attended.contextTokens ?? promptTokens);
  const audio = Math.min(input, Math.max(0, attended.audioTokens ?? clipAudioTokens));
  return {
    type: 'tokens' as const,
    input_tokens: input,
    output_tokens: completionTokens,
    total_tokens: input + completionTokens,
    input_token_details: { text_tokens: input - audio, audio_tokens: audio },
  };
}
