// A scripted SpeechEngine for agent-logic tests (docs/architecture.md: never a product mode). It keeps a log of
// what was appended, "generates" text a test scripts (split into word-piece tokens), honours abort
// between decode steps like the real engine, keeps generated text in the session, and supports
// checkpoint/rewind. Tests gate decode steps with `beforeStep` to make timing deterministic.
import type {
  AudioHandle,
  Checkpoint,
  EngineSession,
  EngineStats,
  GenerateOptions,
  GenerationEvent,
  SpeechEngine,
  ToolSpec,
  TurnRef,
  UserPart,
} from '../../src/engine/engine_session.ts';

export type LogEntry =
  | { role: 'system'; text: string; tools: ToolSpec[]; tokens: number }
  | { role: 'user'; parts: UserPart[]; text: string; audio: AudioHandle[]; tokens: number; transcript?: string }
  | { role: 'assistant'; text: string; tokens: number; generated: boolean; finish?: 'stop' | 'length' | 'aborted' }
  | { role: 'tool'; text: string; tokens: number };

export interface ReplyContext {
  session: ScriptedSession;
  engine: ScriptedEngine;
  /** 'caption' when the last user turn has audio plus a caption task prompt (ASR / translation branch). */
  kind: 'caption' | 'answer';
  lastUser: Extract<LogEntry, { role: 'user' }> | undefined;
  /** Transcript the engine's `transcribe` gives the last user turn's audio (if any). */
  heard: string | undefined;
  /** Tool responses after the last user turn. */
  toolResponses: string[];
  /** GenerateOptions.assistantPrefix of this generation ('' when none). */
  assistantPrefix: string;
}

export interface ScriptedEngineOptions {
  /** What the "speech" says, from the clip's samples. Default: `utterance <n>` in encode order. */
  transcribe?: (pcm: Float32Array, handle: AudioHandle) => string;
  /** The full text the model generates for an answer (may contain tool-call markup). */
  answer?: (ctx: ReplyContext) => string;
  /** The caption text (default: translate prompt -> `[fr] <heard>`, else the heard transcript). */
  caption?: (ctx: ReplyContext) => string;
  /** Awaited before every decode step; default one macrotask, so other work interleaves. */
  beforeStep?: (info: { session: ScriptedSession; step: number; kind: 'caption' | 'answer' }) => Promise<void> | void;
}

export interface GenerationTrace {
  kind: 'caption' | 'answer';
  steps: number;
  /** Decode steps already run when the abort signal fired. */
  stepsAtAbort?: number;
  finish?: 'stop' | 'length' | 'aborted';
  /** GenerateOptions.assistantPrefix ('' when none). */
  assistantPrefix: string;
}

/** Word-piece "tokens": whitespace attaches to the next piece, pieces are at most 6 characters. */
export function scriptedTokens(text: string): string[] {
  return text.match(/\s*[^\s]{1,6}|\s+$/g) ?? [];
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

export class ScriptedEngine implements SpeechEngine {
  readonly sessions: ScriptedSession[] = [];
  readonly audio = new Map<string, { pcm: Float32Array; handle: AudioHandle; sampleRateHz: number }>();
  private readonly heardById = new Map<string, string>();
  released = 0;
  encodes = 0;
  closed = false;

  constructor(readonly options: ScriptedEngineOptions = {}) {}

  async encodeAudio(pcm: Float32Array, sampleRateHz: 16000 | 8000): Promise<AudioHandle> {
    this.encodes++;
    const durationMs = (pcm.length / sampleRateHz) * 1000;
    const handle: AudioHandle = {
      id: `audio_${this.encodes}`,
      audioTokens: Math.max(1, Math.round(durationMs / 80)),
      durationMs,
    };
    this.audio.set(handle.id, { pcm, handle, sampleRateHz });
    // What the clip "says" outlives the handle: the engine prefilled it, a later answer may refer to it.
    this.heardById.set(
      handle.id,
      this.options.transcribe ? this.options.transcribe(pcm, handle) : `utterance ${this.encodes}`,
    );
    await macrotask();
    return handle;
  }

  releaseAudio(handle: AudioHandle): void {
    if (this.audio.delete(handle.id)) this.released++;
  }

  heard(handle: AudioHandle): string {
    return this.heardById.get(handle.id) ?? `utterance ${handle.id.slice('audio_'.length)}`;
  }

  async createSession(): Promise<EngineSession> {
    const session = new ScriptedSession(this);
    this.sessions.push(session);
    return session;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class ScriptedSession implements EngineSession {
  readonly log: LogEntry[] = [];
  readonly generations: GenerationTrace[] = [];
  disposed = false;
  private busy = false;

  constructor(private readonly engine: ScriptedEngine) {}

  get length(): number {
    return this.log.reduce((n, e) => n + e.tokens, 0);
  }

  async appendSystem(content: { instructions: string; tools?: ToolSpec[] }): Promise<void> {
    this.check();
    this.log.push({
      role: 'system',
      text: content.instructions,
      tools: content.tools ?? [],
      tokens: 2 + scriptedTokens(content.instructions).length + (content.tools?.length ?? 0) * 10,
    });
  }

  async appendUser(parts: UserPart[]): Promise<TurnRef> {
    this.check();
    const audio = parts.flatMap((p) => (p.type === 'audio' ? [p.audio] : []));
    const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
    const tokens = 2 + audio.reduce((n, a) => n + a.audioTokens, 0) + scriptedTokens(text).length;
    this.log.push({ role: 'user', parts, text, audio, tokens });
    return { index: this.log.length - 1 };
  }

  async appendAssistant(text: string): Promise<void> {
    this.check();
    this.log.push({ role: 'assistant', text, tokens: 2 + scriptedTokens(text).length, generated: false });
  }

  async appendToolResponse(resultJson: string): Promise<void> {
    this.check();
    this.log.push({ role: 'tool', text: resultJson, tokens: 2 + scriptedTokens(resultJson).length });
  }

  setTranscript(turn: TurnRef, transcript: string): void {
    const entry = this.log[turn.index];
    if (entry?.role === 'user') entry.transcript = transcript;
  }

  async *generate(options: GenerateOptions, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    this.check();
    this.busy = true;
    const prefix = options.assistantPrefix ?? '';
    const ctx = this.replyContext(prefix);
    const script =
      ctx.kind === 'caption'
        ? this.captionText(ctx)
        : (this.engine.options.answer?.(ctx) ?? `You said: ${ctx.heard ?? ctx.lastUser?.text ?? ''}`);
    // Like the real engine: the prefix is already in the turn, the model continues after it.
    const tokens = scriptedTokens(script.startsWith(prefix) ? script.slice(prefix.length) : script);
    const trace: GenerationTrace = { kind: ctx.kind, steps: 0, assistantPrefix: prefix };
    this.generations.push(trace);
    const onAbort = () => (trace.stepsAtAbort ??= trace.steps);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const entry: Extract<LogEntry, { role: 'assistant' }> = {
      role: 'assistant',
      text: prefix,
      tokens: 1 + scriptedTokens(prefix).length,
      generated: true,
    };
    this.log.push(entry);
    let finish: 'stop' | 'length' | 'aborted' = 'stop';
    try {
      for (const piece of tokens) {
        if (trace.steps >= options.maxNewTokens) {
          finish = 'length';
          break;
        }
        await (this.engine.options.beforeStep ?? macrotask)({ session: this, step: trace.steps, kind: ctx.kind });
        // The real engine checks its cancel flag before every decode step.
        if (signal?.aborted) {
          finish = 'aborted';
          break;
        }
        trace.steps++;
        entry.text += piece;
        entry.tokens++;
        yield { type: 'delta', text: piece, tokenIds: [1000 + trace.steps] };
      }
      if (finish === 'stop') entry.tokens++; // <|end|>
      trace.finish = finish;
      yield {
        type: 'done',
        text: entry.text.slice(prefix.length),
        finishReason: finish,
        usage: { promptTokens: 1, completionTokens: trace.steps },
      };
    } finally {
      trace.finish ??= 'aborted';
      entry.finish = trace.finish;
      signal?.removeEventListener('abort', onAbort);
      this.busy = false;
    }
  }

  checkpoint(): Checkpoint {
    return { length: this.length, turns: this.log.length };
  }

  async rewind(checkpoint: Checkpoint): Promise<void> {
    this.check();
    this.log.length = checkpoint.turns;
  }

  stats(): EngineStats {
    return { tokens: this.length, kvBytes: this.length * 10, contextBudgetTokens: 4096, rebuilds: 0 };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  /** The conversation as text (assistant turns and tool responses), for assertions. */
  transcript(): string[] {
    return this.log.map((e) => `${e.role}: ${e.role === 'user' ? (e.transcript ?? e.text ?? '') : e.text}`);
  }

  private check(): void {
    if (this.disposed) throw new Error('scripted session used after dispose');
    if (this.busy) throw new Error('scripted session used while generating');
  }

  private captionText(ctx: ReplyContext): string {
    if (this.engine.options.caption) return this.engine.options.caption(ctx);
    const m = /Translate the audio to (\w+)/.exec(ctx.lastUser?.text ?? '');
    return m ? `[${m[1]}] ${ctx.heard ?? ''}` : (ctx.heard ?? '');
  }

  private replyContext(assistantPrefix = ''): ReplyContext {
    let lastUserIndex = -1;
    for (let i = this.log.length - 1; i >= 0; i--) {
      if (this.log[i].role === 'user') {
        lastUserIndex = i;
        break;
      }
    }
    const lastUser = lastUserIndex >= 0 ? (this.log[lastUserIndex] as Extract<LogEntry, { role: 'user' }>) : undefined;
    const heard = lastUser?.audio[0] ? this.engine.heard(lastUser.audio[0]) : undefined;
    // A caption branch is audio plus the task prompt (prompts.ts captionTask); other audio+text turns are answered.
    const kind =
      lastUser &&
      lastUser.audio.length > 0 &&
      /^(Transcribe|Translate) the /.test(lastUser.text) &&
      this.log.length - 1 === lastUserIndex
        ? 'caption'
        : 'answer';
    const toolResponses = this.log.slice(lastUserIndex + 1).flatMap((e) => (e.role === 'tool' ? [e.text] : []));
    return { session: this, engine: this.engine, kind, lastUser, heard, toolResponses, assistantPrefix };
  }
}
