// response.create parameters: what Earshot refuses (before the response is queued), and conversation
// items turned back into client items for `input` item references.
import { EarshotError } from '../errors.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import type { WireConversationItem } from '../protocol/item_schema.ts';
import type { ConversationItem } from '../protocol/server_items.ts';

/** response.create fields Earshot cannot honour, refused before the response is queued. */
export function checkResponseParams(params: WireResponseCreateParams | undefined): void {
  if (!params) return;
  // Audio output (modalities with 'audio', a voice) is accepted: the response is text, and its
  // response.created / .done say output_modalities ["text"].
  if (params.conversation !== undefined && params.conversation !== 'auto' && params.conversation !== 'none') {
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      `response.conversation must be "auto" or "none" (got ${JSON.stringify(params.conversation.slice(0, 64))}).`,
      { param: 'response.conversation' },
    );
  }
  const mcp = params.tools?.findIndex((t) => t.type !== 'function') ?? -1;
  if (mcp >= 0)
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      'Earshot supports function tools only; MCP tools are not supported.',
      { param: `response.tools[${mcp}]` },
    );
  if (
    params.tool_choice !== undefined &&
    typeof params.tool_choice === 'object' &&
    params.tool_choice.type !== 'function'
  ) {
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      'tool_choice may be "auto", "none", "required" or {type:"function", name}; MCP tool choices are not supported.',
      { param: 'response.tool_choice' },
    );
  }
  if (params.prompt != null)
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      "Stored prompts live on OpenAI's platform; send response.instructions instead.",
      { param: 'response.prompt' },
    );
}

/** An item of the conversation as a client item, for response.create `input` item references. */
export function referencedItem(item: ConversationItem | null | undefined): WireConversationItem | null {
  if (!item) return null;
  if (item.type === 'message') {
    const content = item.content.map((p) =>
      p.type === 'input_audio'
        ? { type: 'input_audio' as const, transcript: p.transcript ?? '' }
        : p.type === 'output_audio'
          ? { type: 'output_text' as const, text: p.transcript }
          : p,
    );
    return { type: 'message', id: item.id, role: item.role, content };
  }
  return item as unknown as WireConversationItem;
}
