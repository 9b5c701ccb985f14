// conversation.item.create of a user message carrying audio (input_audio parts with base64 audio,
// decoded by the session layer): reported as added, its first audio part captioned like committed
// speech (transcription events for that content index), then appended as one user turn of audio and text.
import type { SpeechEngine, AudioHandle, UserPart } from '../engine/engine_session.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import { completedMessage } from '../protocol/server_items.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { AgentSessionView } from './session_view.ts';
import type { ItemAudioClip } from './runtime_types.ts';
import { runCaption } from './caption.ts';
import { checkPlacement, userContentOf, type ItemPlacement } from './client_items.ts';
import type { ConversationContext } from './conversation_context.ts';
import type { ItemChain } from './item_chain.ts';

export interface AudioItemDeps {
  engine: SpeechEngine;
  context: ConversationContext;
  state: AgentSessionView;
  captionMaxTokens: number;
  items: ItemChain;
  emit(payload: ServerEventPayload): void;
  signal: AbortSignal;
}

/** Returns true when the turn was appended to the conversation (realtime sessions, not aborted). */
export async function addAudioItem(
  deps: AudioItemDeps,
  itemId: string,
  wireItem: WireConversationItem,
  clips: ItemAudioClip[],
  placement: ItemPlacement = {},
): Promise<boolean> {
  const { engine, context, state, signal } = deps;
  const wire = wireItem as Extract<WireConversationItem, { type: 'message' }>;
  const item = completedMessage(itemId, 'user', userContentOf(wire));
  const at = placement.previousItemId;
  checkPlacement(deps.items, item.id, at);
  const after = at !== undefined ? at : context.lastItemId();
  const previous =
    at === undefined && after === null
      ? deps.items.append(item.id, item)
      : deps.items.insertAfter(after, item.id, item);
  deps.emit({ type: 'conversation.item.added', previous_item_id: previous, item });
  const handles = new Map<number, AudioHandle>();
  try {
    for (const clip of clips)
      handles.set(
        clip.contentIndex,
        clip.samples8k
          ? await engine.encodeAudio(clip.samples8k, 8000)
          : await engine.encodeAudio(clip.samples16k, 16000),
      );
    const first = clips[0];
    let transcript: string | null = null;
    if (state.transcription) {
      transcript = await runCaption({
        context,
        audio: handles.get(first.contentIndex)!,
        itemId: item.id,
        contentIndex: first.contentIndex,
        settings: state.transcription,
        maxTokens: deps.captionMaxTokens,
        signal,
        emit: deps.emit,
      });
    }
    if (signal.aborted || state.type !== 'realtime') return false;
    const parts: UserPart[] = wire.content.flatMap((p, i): UserPart[] => {
      const audio = handles.get(i);
      if (audio) return [{ type: 'audio', audio }];
      const text =
        'text' in p && typeof p.text === 'string' ? p.text : p.type === 'input_audio' ? (p.transcript ?? '') : '';
      return text === '' ? [] : [{ type: 'text', text }];
    });
    const append = () => context.appendUserMixed(parts, transcript, [item.id]);
    await (at === undefined ? append() : context.insertAfter(at, append));
    return true;
  } finally {
    for (const handle of handles.values()) engine.releaseAudio(handle);
  }
}
