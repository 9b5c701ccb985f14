// Items a client adds with conversation.item.create (or response.create `input`): user text, assistant
// text, a function call's output (the answer to a client tool call), a replayed function call.
import { EarshotError } from '../errors.ts';
import { newItemId } from '../protocol/ids.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import { completedMessage, type ConversationItem, type MessageContent } from '../protocol/server_items.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import type { ConversationContext } from './conversation_context.ts';
import type { ItemChain } from './item_chain.ts';

/**
 * Refuses what the model cannot take, before the item is queued. `input_audio` parts carrying audio are
 * only accepted where the caller decodes them (conversation.item.create); a part with only a transcript
 * (agents-realtime replaying history) counts as that text.
 */
/** The server-side content of a user message the client created: its text and audio parts, audio not yet transcribed. */
export function userContentOf(item: Extract<WireConversationItem, { type: 'message' }>): MessageContent[] {
  return item.content.map((p) =>
    p.type === 'input_audio'
      ? { type: 'input_audio', transcript: p.transcript ?? null }
      : { type: 'input_text', text: 'text' in p && typeof p.text === 'string' ? p.text : '' },
  );
}

export function validateClientItem(item: WireConversationItem, opts: { allowAudio?: boolean } = {}): void {
  if (item.type !== 'message') return;
  const param = 'item.content';
  if (item.role === 'system') {
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      'System messages are not supported as items; set session.instructions instead.',
      { param: 'item.role' },
    );
  }
  for (const part of item.content) {
    if (item.role === 'user' && part.type !== 'input_text' && part.type !== 'input_audio') {
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        `User items carry input_text or input_audio; ${part.type} is not supported.`,
        { param },
      );
    }
    if (part.type === 'input_audio') {
      const hasAudio = typeof part.audio === 'string' && part.audio !== '';
      if (hasAudio && !opts.allowAudio) {
        throw new EarshotError(
          'E_UNSUPPORTED_FEATURE',
          'input_audio with audio is accepted in conversation.item.create only; add the item first, then reference it.',
          { param },
        );
      }
      if (!hasAudio && typeof part.transcript !== 'string') {
        throw new EarshotError(
          'E_INVALID_EVENT',
          "An input_audio part needs 'audio' (base64 in the session's input format) or a 'transcript'.",
          { param },
        );
      }
    }
    if (item.role === 'assistant' && part.type !== 'output_text' && part.type !== 'text') {
      throw new EarshotError(
        'E_UNSUPPORTED_FEATURE',
        `Assistant items carry output_text; ${part.type} is not supported.`,
        { param },
      );
    }
  }
}

function textOf(item: Extract<WireConversationItem, { type: 'message' }>): string {
  return item.content
    .map((p) =>
      'text' in p && typeof p.text === 'string'
        ? p.text
        : p.type === 'input_audio' && typeof p.transcript === 'string'
          ? p.transcript
          : '',
    )
    .join('');
}

/**
 * Where an item goes: `previousItemId` absent, after the last item the model has seen (the end of the
 * conversation as the client's events built it); null, first; an id, right after that item, which
 * rebuilds the model's context from that point (ConversationContext.insertAfter).
 */
export interface ItemPlacement {
  previousItemId?: string | null;
}

export async function applyClientItem(
  context: ConversationContext,
  item: WireConversationItem,
  out: { items: ItemChain; emit(payload: ServerEventPayload): void; silent?: boolean } & ItemPlacement,
): Promise<void> {
  const id = item.id ?? newItemId();
  const previous = out.previousItemId;
  if (!out.silent) checkPlacement(out.items, id, previous, item);
  const contextLast = context.lastItemId();
  const place = (append: () => Promise<void>) =>
    previous === undefined ? append() : context.insertAfter(previous, append);
  let serverItem: ConversationItem;
  switch (item.type) {
    case 'message': {
      const text = textOf(item);
      await place(() =>
        item.role === 'user' ? context.appendUserText(text, [id]) : context.appendAssistant(text, [id]),
      );
      serverItem =
        item.role === 'user'
          ? completedMessage(id, 'user', userContentOf(item))
          : completedMessage(id, 'assistant', [{ type: 'output_text', text }]);
      break;
    }
    case 'function_call_output':
      await place(() => context.appendToolResponse(item.output, [id]));
      serverItem = {
        id,
        object: 'realtime.item',
        type: 'function_call_output',
        status: 'completed',
        call_id: item.call_id,
        output: item.output,
      };
      break;
    case 'function_call': {
      const callId = item.call_id ?? `call_${id}`;
      let args: unknown = {};
      try {
        args = JSON.parse(item.arguments);
      } catch {
        args = item.arguments;
      }
      await place(() =>
        context.appendAssistant(
          `<|tool_call|>${JSON.stringify([{ name: item.name, arguments: args }])}<|/tool_call|>`,
          [id],
        ),
      );
      serverItem = {
        id,
        object: 'realtime.item',
        type: 'function_call',
        status: 'completed',
        name: item.name,
        call_id: callId,
        arguments: item.arguments,
      };
      break;
    }
  }
  if (out.silent) return;
  const after = previous !== undefined ? previous : contextLast;
  const previousId =
    previous === undefined && after === null
      ? out.items.append(id, serverItem)
      : out.items.insertAfter(after, id, serverItem);
  out.emit({ type: 'conversation.item.added', previous_item_id: previousId, item: serverItem });
  out.emit({ type: 'conversation.item.done', previous_item_id: previousId, item: serverItem });
}

/** Checked when the item is applied: earlier events (a delete, another create) may have changed things. */
export function checkPlacement(
  items: ItemChain,
  id: string,
  previous: string | null | undefined,
  item?: WireConversationItem,
): void {
  if (items.has(id))
    throw new EarshotError('E_INVALID_EVENT', `An item with id ${JSON.stringify(id.slice(0, 64))} already exists.`, {
      param: 'item.id',
    });
  if (previous != null && !items.has(previous)) {
    throw new EarshotError(
      'E_ITEM_NOT_FOUND',
      `previous_item_id ${JSON.stringify(previous.slice(0, 64))} names no item of the conversation (was it deleted?).`,
      { param: 'previous_item_id' },
    );
  }
  if (item?.type === 'function_call_output' && items.isAnswered(item.call_id)) {
    throw new EarshotError(
      'E_INVALID_EVENT',
      `The call ${JSON.stringify(item.call_id.slice(0, 64))} already has an output; a call is answered once.`,
      { param: 'item.call_id' },
    );
  }
}
