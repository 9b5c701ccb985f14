// Builders for the items, response objects and usage the agent runtime reports (shapes in
// src/protocol/server_items.ts; agents-realtime drops events that miss an id field, so all are set).
import type {
  FunctionCallItem,
  FunctionCallOutputItem,
  MessageItem,
  RealtimeResponseObject,
  ResponseStatus,
  ResponseStatusDetails,
  ResponseUsage,
} from '../protocol/server_items.ts';

export interface UsageCounter {
  /** Context tokens the model attended to, summed over the response's generation rounds. */
  inputTokens: number;
  /** Of those, tokens that were already in the KV cache before the response added anything. */
  cachedTokens: number;
  audioTokens: number;
  outputTokens: number;
}

export function emptyUsage(): UsageCounter {
  return { inputTokens: 0, cachedTokens: 0, audioTokens: 0, outputTokens: 0 };
}

export function toResponseUsage(u: UsageCounter): ResponseUsage {
  return {
    total_tokens: u.inputTokens + u.outputTokens,
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    input_token_details: {
      text_tokens: u.inputTokens - u.audioTokens,
      audio_tokens: u.audioTokens,
      cached_tokens: u.cachedTokens,
    },
    output_token_details: { text_tokens: u.outputTokens, audio_tokens: 0 },
  };
}

export function responseObject(args: {
  id: string;
  status: ResponseStatus;
  statusDetails?: ResponseStatusDetails | null;
  output?: RealtimeResponseObject['output'];
  usage?: UsageCounter | null;
  outOfBand?: boolean;
  conversationId: string;
  maxOutputTokens: number | 'inf';
  metadata?: Record<string, string> | null;
  /** ['audio'] for a spoken response (audio with its transcript). */
  outputModalities?: RealtimeResponseObject['output_modalities'];
}): RealtimeResponseObject {
  return {
    id: args.id,
    object: 'realtime.response',
    status: args.status,
    status_details: args.statusDetails ?? null,
    output: args.output ?? [],
    conversation_id: args.outOfBand ? null : args.conversationId,
    output_modalities: args.outputModalities ?? ['text'],
    max_output_tokens: args.maxOutputTokens,
    usage: args.usage ? toResponseUsage(args.usage) : null,
    metadata: args.metadata ?? null,
  };
}

/** An assistant message; `modality` 'audio' holds the text as the transcript of its audio (output_audio). */
export function assistantMessage(
  id: string,
  text: string | null,
  status: MessageItem['status'],
  modality: 'text' | 'audio' = 'text',
): MessageItem {
  return {
    id,
    object: 'realtime.item',
    type: 'message',
    status,
    role: 'assistant',
    content:
      text === null
        ? []
        : [modality === 'audio' ? { type: 'output_audio', transcript: text } : { type: 'output_text', text }],
  };
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status: FunctionCallItem['status'],
): FunctionCallItem {
  return { id, object: 'realtime.item', type: 'function_call', status, name, call_id: callId, arguments: args };
}

export function functionCallOutputItem(id: string, callId: string, output: string): FunctionCallOutputItem {
  return { id, object: 'realtime.item', type: 'function_call_output', status: 'completed', call_id: callId, output };
}
