// The agent conversation as the user sees it: user turns (their transcripts), assistant answers that
// stream token by token, tool calls as cards (name, arguments, result) and barge-ins. Pure state over
// server events; the page renders it and `earshot stream` prints it.
import type { ServerEvent } from '../../src/protocol/server_events.ts';
import type { ConversationItem } from '../../src/protocol/server_items.ts';

export interface UserEntry {
  kind: 'user';
  itemId: string;
  /** null until the transcript arrives (or forever, on a server that does not transcribe). */
  text: string | null;
}

export interface AssistantEntry {
  kind: 'assistant';
  itemId: string;
  responseId: string | null;
  text: string;
  state: 'streaming' | 'done' | 'cancelled' | 'failed';
}

export interface ToolCallEntry {
  kind: 'tool_call';
  itemId: string;
  callId: string;
  name: string;
  /** JSON text, growing while `function_call_arguments.delta` streams. */
  arguments: string;
  /** The function_call_output, once reported (server tools) or sent (client tools). */
  output: string | null;
  state: 'streaming' | 'called' | 'done';
}

export interface InterruptionEntry {
  kind: 'interruption';
  responseId: string;
  /** What had been said of the answer when it was cut off. */
  partialText: string;
}

export type ConversationEntry = UserEntry | AssistantEntry | ToolCallEntry | InterruptionEntry;

export class ConversationLog {
  readonly entries: ConversationEntry[] = [];
  private readonly assistantByItem = new Map<string, AssistantEntry>();
  private readonly toolByCall = new Map<string, ToolCallEntry>();
  private readonly userByItem = new Map<string, UserEntry>();
  interruptions = 0;

  /** Applies one event; returns the entries it added or changed (a response.done can end several). */
  apply(event: ServerEvent): ConversationEntry[] {
    const changed = this.applyOne(event);
    return changed === null ? [] : Array.isArray(changed) ? changed : [changed];
  }

  private applyOne(event: ServerEvent): ConversationEntry | ConversationEntry[] | null {
    switch (event.type) {
      case 'conversation.item.added':
      case 'conversation.item.created':
      case 'conversation.item.done':
        return this.onItem(event.item, null);
      case 'response.output_item.added':
      case 'response.output_item.done':
        return this.onItem(event.item, event.response_id);
      case 'conversation.item.input_audio_transcription.completed': {
        const user = this.userByItem.get(event.item_id);
        if (!user) return null;
        user.text = event.transcript.trim();
        return user;
      }
      case 'response.output_text.delta': {
        const entry = this.assistant(event.item_id, event.response_id);
        entry.text += event.delta;
        return entry;
      }
      case 'response.output_text.done': {
        const entry = this.assistant(event.item_id, event.response_id);
        entry.text = event.text;
        return entry;
      }
      case 'response.function_call_arguments.delta': {
        const card = this.tool(event.call_id, event.item_id, '');
        if (card.state === 'streaming') card.arguments += event.delta;
        return card;
      }
      case 'response.function_call_arguments.done': {
        const card = this.tool(event.call_id, event.item_id, event.name);
        card.name = event.name;
        card.arguments = event.arguments;
        if (card.state === 'streaming') card.state = 'called';
        return card;
      }
      case 'response.done':
        return this.onResponseDone(event.response.id, event.response.status, event.response.status_details?.reason);
      default:
        return null;
    }
  }

  assistantMessages(): AssistantEntry[] {
    return this.entries.filter((e): e is AssistantEntry => e.kind === 'assistant');
  }

  toolCalls(): ToolCallEntry[] {
    return this.entries.filter((e): e is ToolCallEntry => e.kind === 'tool_call');
  }

  private onItem(item: ConversationItem, responseId: string | null): ConversationEntry | null {
    if (item.type === 'message' && item.role === 'user') {
      let user = this.userByItem.get(item.id);
      if (!user) {
        user = { kind: 'user', itemId: item.id, text: null };
        this.userByItem.set(item.id, user);
        this.entries.push(user);
      }
      for (const part of item.content) {
        if (part.type === 'input_text') user.text = part.text;
        else if (part.type === 'input_audio' && part.transcript) user.text = part.transcript;
      }
      return user;
    }
    if (item.type === 'message' && item.role === 'assistant') {
      const entry = this.assistant(item.id, responseId);
      const text = item.content
        .map((p) => (p.type === 'output_text' ? p.text : p.type === 'output_audio' ? p.transcript : ''))
        .join('');
      if (text !== '') entry.text = text;
      return entry;
    }
    if (item.type === 'function_call') {
      const card = this.tool(item.call_id, item.id, item.name);
      card.name = item.name;
      if (item.arguments !== '') card.arguments = item.arguments;
      if (item.status === 'completed' && card.state === 'streaming') card.state = 'called';
      return card;
    }
    if (item.type === 'function_call_output') {
      const card = this.tool(item.call_id, item.id, '');
      card.output = item.output;
      card.state = 'done';
      return card;
    }
    return null;
  }

  private onResponseDone(responseId: string, status: string, reason: string | undefined): ConversationEntry[] {
    let partialText = '';
    const changed: ConversationEntry[] = [];
    for (const entry of this.assistantByItem.values()) {
      if (entry.responseId !== responseId || entry.state !== 'streaming') continue;
      entry.state =
        status === 'completed'
          ? 'done'
          : status === 'cancelled'
            ? 'cancelled'
            : status === 'failed'
              ? 'failed'
              : 'done';
      partialText += entry.text;
      changed.push(entry);
    }
    if (status === 'cancelled' && reason === 'turn_detected') {
      this.interruptions++;
      const mark: InterruptionEntry = { kind: 'interruption', responseId, partialText };
      this.entries.push(mark);
      changed.push(mark);
    }
    return changed;
  }

  private assistant(itemId: string, responseId: string | null): AssistantEntry {
    let entry = this.assistantByItem.get(itemId);
    if (!entry) {
      entry = { kind: 'assistant', itemId, responseId, text: '', state: 'streaming' };
      this.assistantByItem.set(itemId, entry);
      this.entries.push(entry);
    } else if (entry.responseId === null && responseId !== null) {
      entry.responseId = responseId;
    }
    return entry;
  }

  /** A card keyed by call id; the output item has its own item id, so the call id is what links them. */
  private tool(callId: string, itemId: string, name: string): ToolCallEntry {
    let card = this.toolByCall.get(callId);
    if (!card) {
      card = { kind: 'tool_call', itemId, callId, name, arguments: '', output: null, state: 'streaming' };
      this.toolByCall.set(callId, card);
      this.entries.push(card);
    }
    return card;
  }
}
