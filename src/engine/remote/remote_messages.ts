// A remote session's turn log and its rendering as chat-completions messages. The rendering is a pure
// function of the log, written in a fixed key order, and earlier turns never change (audio keeps its
// WAV bytes, generated answers are sent back exactly as they were returned): each request's body starts
// with the previous request's messages byte for byte, so the remote's prefix cache keeps hitting.
import type { ToolSpec } from '../engine_session.ts';

export type LoggedPart = { type: 'text'; text: string } | { type: 'audio'; wavBase64: string; audioTokens: number };

export interface ReturnedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type LoggedTurn =
  | { role: 'system'; text: string; tools?: ToolSpec[] }
  | { role: 'user'; parts: LoggedPart[]; transcript?: string }
  | { role: 'assistant'; text: string; toolCalls?: ReturnedToolCall[] }
  | { role: 'tool'; text: string };

export interface RenderOptions {
  history: 'audio' | 'transcripts';
}

/** OpenAI's input_audio part, the form vLLM's chat parser reads as audio (besides audio_url data URLs). */
function audioPart(wavBase64: string) {
  return { type: 'input_audio', input_audio: { data: wavBase64, format: 'wav' } };
}

export function renderMessages(
  turns: readonly LoggedTurn[],
  opts: RenderOptions,
): { messages: unknown[]; tools: ToolSpec[]; hasAudio: boolean } {
  const messages: unknown[] = [];
  let tools: ToolSpec[] = [];
  let hasAudio = false;
  let lastUser = -1;
  turns.forEach((t, i) => (t.role === 'user' ? (lastUser = i) : undefined));
  const pendingCallIds: string[] = [];
  turns.forEach((turn, i) => {
    switch (turn.role) {
      case 'system':
        if (turn.tools && turn.tools.length > 0 && tools.length === 0) tools = turn.tools;
        messages.push({ role: 'system', content: turn.text });
        return;
      case 'user': {
        const asText = opts.history === 'transcripts' && i !== lastUser && turn.transcript !== undefined;
        const content = turn.parts.flatMap((p): unknown[] => {
          if (p.type === 'text') return [{ type: 'text', text: p.text }];
          if (asText) return [{ type: 'text', text: turn.transcript! }];
          hasAudio = true;
          return [audioPart(p.wavBase64)];
        });
        messages.push({ role: 'user', content });
        return;
      }
      case 'assistant':
        pendingCallIds.push(...(turn.toolCalls ?? []).map((c) => c.id));
        messages.push(
          turn.toolCalls && turn.toolCalls.length > 0
            ? {
                role: 'assistant',
                content: turn.text === '' ? null : turn.text,
                tool_calls: turn.toolCalls.map((c) => ({
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : { role: 'assistant', content: turn.text },
        );
        return;
      case 'tool': {
        const id = pendingCallIds.shift();
        messages.push(
          id ? { role: 'tool', content: turn.text, tool_call_id: id } : { role: 'tool', content: turn.text },
        );
        return;
      }
    }
  });
  return { messages, tools, hasAudio };
}

/** Token count estimate for the session's length (the remote's usage is what responses report). */
export function estimateTokens(turn: LoggedTurn): number {
  const chars = (text: string) => Math.ceil(text.length / 4) + 2;
  switch (turn.role) {
    case 'user':
      return turn.parts.reduce((n, p) => n + (p.type === 'text' ? chars(p.text) : p.audioTokens), 2);
    case 'system':
      return chars(turn.text) + (turn.tools ? chars(JSON.stringify(turn.tools)) : 0);
    default:
      return chars(turn.text);
  }
}
