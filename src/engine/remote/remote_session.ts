// EngineSession over HTTP: the conversation is a turn log on this side; each generate() is one streaming
// chat-completions request carrying the whole log (the remote keeps no state of ours; its prefix cache
// makes the repeated prefix cheap). checkpoint/rewind cut the log, so caption branches leave no trace.
import type { RemoteEngineConfig } from '../../config/remote_engine_schema.ts';
import { EarshotError } from '../../errors.ts';
import type {
  Checkpoint,
  EngineSession,
  EngineStats,
  FinishReason,
  GenerateOptions,
  GenerationEvent,
  ToolSpec,
  TurnRef,
  UserPart,
} from '../engine_session.ts';
import {
  estimateTokens,
  renderMessages,
  type LoggedPart,
  type LoggedTurn,
  type ReturnedToolCall,
} from './remote_messages.ts';
import { streamChatCompletion, type ChatChunk } from './remote_http.ts';

export interface RemoteSessionDeps {
  config: RemoteEngineConfig;
  contextBudgetTokens: number;
  resolveAudio(id: string): { wavBase64: string; audioTokens: number };
  /** Aborted when the engine closes. */
  closed: AbortSignal;
}

const TOOL_CALL_OPEN = '<|tool_call|>';

export class RemoteSession implements EngineSession {
  private turns: LoggedTurn[] = [];
  private tokens: number[] = [];
  private disposed = false;

  constructor(private readonly deps: RemoteSessionDeps) {}

  get length(): number {
    return this.tokens.reduce((a, b) => a + b, 0);
  }

  private push(turn: LoggedTurn): number {
    if (this.disposed) throw new EarshotError('E_ENGINE', 'The session was disposed.');
    this.turns.push(turn);
    this.tokens.push(estimateTokens(turn));
    return this.turns.length - 1;
  }

  async appendSystem(content: { instructions: string; tools?: ToolSpec[] }): Promise<void> {
    this.push({
      role: 'system',
      text: content.instructions,
      ...(content.tools && content.tools.length > 0 ? { tools: content.tools } : {}),
    });
  }

  async appendUser(parts: UserPart[]): Promise<TurnRef> {
    const logged: LoggedPart[] = parts.map((p) =>
      p.type === 'text' ? { type: 'text', text: p.text } : { type: 'audio', ...this.deps.resolveAudio(p.audio.id) },
    );
    return { index: this.push({ role: 'user', parts: logged }) };
  }

  async appendAssistant(text: string): Promise<void> {
    this.push({ role: 'assistant', text });
  }

  async appendToolResponse(resultJson: string): Promise<void> {
    this.push({ role: 'tool', text: resultJson });
  }

  setTranscript(turn: TurnRef, transcript: string): void {
    const t = this.turns[turn.index];
    if (t?.role === 'user') t.transcript = transcript;
  }

  checkpoint(): Checkpoint {
    return { length: this.length, turns: this.turns.length };
  }

  async rewind(checkpoint: Checkpoint): Promise<void> {
    this.turns.length = Math.min(this.turns.length, checkpoint.turns);
    this.tokens.length = this.turns.length;
  }

  stats(): EngineStats {
    return { tokens: this.length, kvBytes: 0, contextBudgetTokens: this.deps.contextBudgetTokens, rebuilds: 0 };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.turns = [];
    this.tokens = [];
  }

  generate(options: GenerateOptions, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    return this.run(options, signal);
  }

  private requestBody(options: GenerateOptions): Record<string, unknown> {
    const cfg = this.deps.config;
    const { messages, tools, hasAudio } = renderMessages(this.turns, { history: cfg.history });
    const body: Record<string, unknown> = {
      model: hasAudio ? (cfg.speech_model ?? cfg.model) : cfg.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: options.maxNewTokens,
      temperature: options.sampling?.temperature ?? 0,
    };
    if (options.sampling?.topP !== undefined) body.top_p = options.sampling.topP;
    if (options.sampling) body.seed = options.sampling.seed;
    if (tools.length > 0) {
      body.tools = tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }));
      // A forced call is the chat API's tool_choice; the engine interface expresses it as an answer prefix.
      const named = options.assistantPrefix?.match(/"name": ("(?:[^"\\]|\\.)*")/);
      if (named) body.tool_choice = { type: 'function', function: { name: JSON.parse(named[1]) as string } };
      else if (options.assistantPrefix?.startsWith(TOOL_CALL_OPEN)) body.tool_choice = 'required';
    }
    return body;
  }

  private async *run(options: GenerateOptions, signal?: AbortSignal): AsyncGenerator<GenerationEvent> {
    const body = this.requestBody(options);
    const abort = AbortSignal.any([...(signal ? [signal] : []), this.deps.closed]);
    const promptEstimate = this.length;
    let text = '';
    let finish: FinishReason = 'stop';
    let usage: ChatChunk['usage'] = null;
    const calls: { id?: string; name: string; arguments: string }[] = [];
    try {
      for await (const chunk of streamChatCompletion(this.deps.config, body, abort)) {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        for (const c of choice.delta?.tool_calls ?? []) {
          const call = (calls[c.index] ??= { name: '', arguments: '' });
          if (c.id) call.id = c.id;
          call.name += c.function?.name ?? '';
          call.arguments += c.function?.arguments ?? '';
        }
        const delta = choice.delta?.content ?? '';
        if (delta) {
          text += delta;
          yield { type: 'delta', text: delta, tokenIds: [] };
        }
        if (choice.finish_reason === 'length') finish = 'length';
      }
    } catch (err) {
      if (!abort.aborted) throw err;
      finish = 'aborted';
    }
    const toolCalls: ReturnedToolCall[] = calls.map((c, i) => ({
      id: c.id ?? `call_${i}`,
      name: c.name,
      arguments: c.arguments,
    }));
    // Structured calls come back to the agent in Phi-4's own call form, which its parser reads.
    const callText =
      toolCalls.length > 0
        ? `${TOOL_CALL_OPEN}[${toolCalls.map((c) => `{"name": ${JSON.stringify(c.name)}, "arguments": ${c.arguments || '{}'}}`).join(', ')}]<|/tool_call|>`
        : '';
    const prefix = options.assistantPrefix ?? '';
    const callDelta = callText.startsWith(prefix) ? callText.slice(prefix.length) : callText;
    if (callDelta) yield { type: 'delta', text: callDelta, tokenIds: [] };
    // The answer stays in the log as the remote returned it (content and calls), so it is sent back byte-stable.
    if (!this.disposed) this.push({ role: 'assistant', text, ...(toolCalls.length > 0 ? { toolCalls } : {}) });
    const completionTokens = usage?.completion_tokens ?? Math.ceil((text.length + callText.length) / 4);
    yield {
      type: 'done',
      text: text + callDelta,
      finishReason: finish,
      usage: { promptTokens: usage?.prompt_tokens ?? promptEstimate, completionTokens },
    };
  }
}
