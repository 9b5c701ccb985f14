// One connection's conversation as the model sees it: the persistent EngineSession plus a text history
// of everything appended, so that the session can be rebuilt when the system prompt or tools change
// (session.update after the first turn). Tracks the audio tokens in context for usage reporting.
// A failed turn never stays in the session: `restore` returns to a checkpoint, and a session that cannot
// be rewound (its engine worker died) is replaced at the next use by one rebuilt from the history.
import { isEarshotError } from '../errors.ts';
import type {
  AudioHandle,
  Checkpoint,
  EngineSession,
  GenerateOptions,
  GenerationEvent,
  SpeechEngine,
  ToolSpec,
  TurnRef,
  UserPart,
} from '../engine/engine_session.ts';

/**
 * `itemIds`: the conversation items this turn holds (conversation.item.delete removes them). `cp`: the
 * session's checkpoint just before the turn, where an item inserted before it rewinds to.
 */
export type HistoryEntry = { itemIds: string[]; cp?: Checkpoint } & (
  | { role: 'user'; text: string | null; audioTokens: number; turn?: TurnRef }
  | { role: 'assistant'; text: string }
  | { role: 'tool'; json: string }
  /** A per-response system turn (response.create instructions/tools), removed when the response ends. */
  | { role: 'system'; system: SystemPrompt }
);

export interface SystemPrompt {
  instructions: string;
  tools: ToolSpec[];
}

interface ContextCheckpoint {
  /** The session the checkpoint belongs to (a replaced session's checkpoints cannot be rewound to). */
  session: EngineSession;
  engine: Checkpoint;
  historyLength: number;
  audioTokens: number;
}

export class ConversationContext {
  private session: EngineSession | null = null;
  private systemDirty = false;
  /** Where the last generate() started: the checkpoint of the turn recordGenerated() adds. */
  private generationCp: Checkpoint | null = null;
  /** The session failed in a way it cannot be rewound from: the next use replaces it. */
  private broken = false;
  /** Rebuilds of sessions replaced so far (plus one per replacement), so that `rebuilds` only grows. */
  private rebuildBase = 0;
  readonly history: HistoryEntry[] = [];
  /** Audio tokens appended, for engines whose stats do not count them (ASR branches are rewound). */
  private appendedAudioTokens = 0;

  constructor(
    private readonly engine: SpeechEngine,
    private readonly systemPrompt: () => SystemPrompt,
    private readonly contextBudgetTokens: number,
  ) {}

  get length(): number {
    return this.session?.length ?? 0;
  }

  /** Audio tokens in the KV context now (the engine's count: audio it replaced by transcripts is gone). */
  get audioTokens(): number {
    return this.session?.stats().audioTokens ?? this.appendedAudioTokens;
  }

  /** Context rebuilds so far (the engine's compactions and this context's replays); only grows. */
  get rebuilds(): number {
    return this.rebuildBase + (this.session?.stats().rebuilds ?? 0);
  }

  /**
   * Of `attendedTokens`, those the KV cache held before a turn that started at `lengthBefore` with
   * `rebuildsBefore` rebuilds: none once the context was rebuilt since (it was recomputed in this turn).
   */
  cachedTokensSince(lengthBefore: number, rebuildsBefore: number | undefined, attendedTokens: number): number {
    if (rebuildsBefore !== undefined && this.rebuilds !== rebuildsBefore) return 0;
    return Math.max(0, Math.min(lengthBefore, attendedTokens));
  }

  /** The next use rebuilds the session with the new system prompt and replays the history as text. */
  markSystemDirty(): void {
    if (this.session) this.systemDirty = true;
  }

  /** The session; created on first use. A pending rebuild waits for `refresh()` (at a job's start). */
  async ready(): Promise<EngineSession> {
    if (this.session && !this.broken) return this.session;
    return this.refresh();
  }

  /** Applies a pending system-prompt change: called between jobs, never inside a branch. */
  async refresh(): Promise<EngineSession> {
    if (this.session && !this.systemDirty && !this.broken) return this.session;
    const old = this.session;
    this.session = null;
    this.systemDirty = false;
    this.broken = false;
    if (old) {
      this.rebuildBase += old.stats().rebuilds + 1;
      await old.dispose().catch(() => undefined);
    }
    const session = await this.engine.createSession({ contextBudgetTokens: this.contextBudgetTokens });
    try {
      const system = this.systemPrompt();
      await session.appendSystem({
        instructions: system.instructions,
        ...(system.tools.length > 0 ? { tools: system.tools } : {}),
      });
      this.appendedAudioTokens = 0;
      for (const entry of this.history) {
        entry.cp = session.checkpoint();
        if (entry.role === 'user') {
          // Audio from before the rebuild is replayed as its transcript (docs/architecture.md, decision 6).
          entry.audioTokens = 0;
          entry.turn = await session.appendUser([{ type: 'text', text: entry.text ?? '' }]);
        } else if (entry.role === 'assistant') await session.appendAssistant(entry.text);
        else if (entry.role === 'tool') await session.appendToolResponse(entry.json);
        else
          await session.appendSystem({
            instructions: entry.system.instructions,
            ...(entry.system.tools.length > 0 ? { tools: entry.system.tools } : {}),
          });
      }
    } catch (err) {
      await session.dispose();
      throw err;
    }
    this.session = session;
    return session;
  }

  async appendUserAudio(audio: AudioHandle, transcript: string | null, itemIds: string[] = []): Promise<void> {
    await this.appendUserMixed([{ type: 'audio', audio }], transcript, itemIds);
  }

  /** A user turn of text and audio parts (a conversation.item.create message with input_audio). */
  async appendUserMixed(parts: UserPart[], transcript: string | null, itemIds: string[] = []): Promise<void> {
    const session = await this.ready();
    const cp = session.checkpoint();
    const turn = await this.guard(session.appendUser(parts));
    if (transcript !== null) session.setTranscript(turn, transcript);
    const audioTokens = parts.reduce((n, p) => n + (p.type === 'audio' ? p.audio.audioTokens : 0), 0);
    this.appendedAudioTokens += audioTokens;
    this.history.push({ role: 'user', text: transcript, audioTokens, turn, itemIds, cp });
  }

  /** A user turn of several parts (an ASR branch's audio + task prompt); rewound by its caller. */
  async appendUserParts(parts: UserPart[]): Promise<void> {
    const session = await this.ready();
    await this.guard(session.appendUser(parts));
    this.history.push({ role: 'user', text: null, audioTokens: 0, itemIds: [] });
  }

  async appendUserText(text: string, itemIds: string[] = []): Promise<void> {
    const session = await this.ready();
    const cp = session.checkpoint();
    const turn = await this.guard(session.appendUser([{ type: 'text', text }]));
    this.history.push({ role: 'user', text, audioTokens: 0, turn, itemIds, cp });
  }

  async appendAssistant(text: string, itemIds: string[] = []): Promise<void> {
    const session = await this.ready();
    const cp = session.checkpoint();
    await this.guard(session.appendAssistant(text));
    this.history.push({ role: 'assistant', text, itemIds, cp });
  }

  async appendToolResponse(json: string, itemIds: string[] = []): Promise<void> {
    const session = await this.ready();
    const cp = session.checkpoint();
    await this.guard(session.appendToolResponse(json));
    this.history.push({ role: 'tool', json, itemIds, cp });
  }

  /**
   * A system turn for one response (response.create `instructions` / `tools`): the caller rewinds to the
   * returned checkpoint afterwards and keeps what followed with `keepAfterTransient`.
   */
  async appendTransientSystem(system: SystemPrompt): Promise<ContextCheckpoint> {
    const cp = await this.checkpoint();
    const session = await this.ready();
    await this.guard(
      session.appendSystem({
        instructions: system.instructions,
        ...(system.tools.length > 0 ? { tools: system.tools } : {}),
      }),
    );
    this.history.push({ role: 'system', system, itemIds: [], cp: cp.engine });
    return cp;
  }

  /** Removes the transient system turn taken at `cp`, re-appending (as text) every turn after it. */
  async keepAfterTransient(cp: ContextCheckpoint): Promise<void> {
    const after = this.history.slice(cp.historyLength + 1);
    await this.rewind(cp);
    for (const entry of after) {
      if (entry.role === 'user') await this.appendUserText(entry.text ?? '', entry.itemIds);
      else if (entry.role === 'assistant') await this.appendAssistant(entry.text, entry.itemIds);
      else if (entry.role === 'tool') await this.appendToolResponse(entry.json, entry.itemIds);
    }
  }

  /**
   * conversation.item.delete: drops the item from the turns that hold it (a turn left with no item goes)
   * and rebuilds the session at the next refresh (earlier audio is then replayed as its transcript).
   */
  forgetItem(itemId: string): boolean {
    let found = false;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const entry = this.history[i];
      const at = entry.itemIds.indexOf(itemId);
      if (at < 0) continue;
      found = true;
      entry.itemIds.splice(at, 1);
      if (entry.itemIds.length === 0) this.history.splice(i, 1);
    }
    if (found && this.session) this.systemDirty = true;
    return found;
  }

  /**
   * conversation.item.truncate of a spoken answer: the model keeps only what the listener heard. The turn
   * holding the item is cut: when it is the last turn, by rewinding to before it and appending the heard
   * text (as the cancel path does); otherwise its text is replaced and the session rebuilt at the next
   * refresh. Text after the spoken part (a tool call the same generation wrote) is kept.
   */
  async truncateAssistant(itemId: string, spoken: string, heard: string): Promise<boolean> {
    const at = this.history.findLastIndex((e) => e.role === 'assistant' && e.itemIds.includes(itemId));
    if (at < 0) return false;
    const entry = this.history[at] as Extract<HistoryEntry, { role: 'assistant' }>;
    const text = entry.text.startsWith(spoken) ? heard + entry.text.slice(spoken.length) : heard;
    if (at === this.history.length - 1 && entry.cp !== undefined && this.session && !this.broken) {
      await this.guard(this.session.rewind(entry.cp));
      this.history.length = at;
      // Nothing heard: the turn goes (an empty assistant turn would teach the model to say nothing).
      if (text !== '') await this.appendAssistant(text, entry.itemIds);
      return true;
    }
    entry.text = text;
    if (this.session) this.systemDirty = true;
    return true;
  }

  /** Generation whose text stays in the session; `recordGenerated` adds it to the history afterwards. */
  async generate(options: GenerateOptions, signal?: AbortSignal): Promise<AsyncIterable<GenerationEvent>> {
    const session = await this.ready();
    this.generationCp = session.checkpoint();
    return session.generate(options, signal);
  }

  recordGenerated(text: string): HistoryEntry {
    const entry: HistoryEntry = {
      role: 'assistant',
      text,
      itemIds: [],
      ...(this.generationCp ? { cp: this.generationCp } : {}),
    };
    this.history.push(entry);
    return entry;
  }

  async checkpoint(): Promise<ContextCheckpoint> {
    const session = await this.ready();
    return {
      session,
      engine: session.checkpoint(),
      historyLength: this.history.length,
      audioTokens: this.appendedAudioTokens,
    };
  }

  async rewind(cp: ContextCheckpoint): Promise<void> {
    if (!this.session) return;
    if (cp.session !== this.session) {
      // The session was replaced since the checkpoint: cut the history back and rebuild from it.
      this.broken = true;
    } else await this.guard(this.session.rewind(cp.engine));
    this.history.length = cp.historyLength;
    this.appendedAudioTokens = cp.audioTokens;
  }

  /**
   * Returns to `cp` after a failure, whatever failed; never throws. When the session cannot be rewound
   * (its worker died, or the checkpoint belongs to a session replaced since), the history is cut back and
   * the next use rebuilds the session from it.
   */
  async restore(cp: ContextCheckpoint): Promise<void> {
    const session = this.session;
    try {
      if (session && session === cp.session && !this.broken) await session.rewind(cp.engine);
      else this.broken = true;
    } catch {
      this.broken = true;
    }
    this.history.length = Math.min(this.history.length, cp.historyLength);
    this.appendedAudioTokens = cp.audioTokens;
  }

  /**
   * An engine failure seen anywhere in a turn (also outside this context, e.g. encoding its audio): when
   * the engine worker is gone, so is this session, and the next use replaces it instead of failing once
   * more on it (the next turn's caption would).
   */
  noteEngineFailure(err: unknown): void {
    if (this.session && isEarshotError(err) && err.code === 'E_ENGINE_WORKER_EXITED') this.broken = true;
  }

  /** An engine call; a session whose worker is gone is replaced at the next use. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      this.noteEngineFailure(err);
      throw err;
    }
  }

  /** The last conversation item the model's context holds (null when none). */
  lastItemId(): string | null {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const ids = this.history[i].itemIds;
      if (ids.length > 0) return ids[ids.length - 1];
    }
    return null;
  }

  holdsItem(itemId: string): boolean {
    return this.history.some((e) => e.itemIds.includes(itemId));
  }

  /**
   * Adds turns (`apply`) right after the turn holding `anchorItemId` (null: before every turn) instead of
   * at the end: the session is rewound to the checkpoint before the first later turn, `apply` appends,
   * and the later turns are appended again, as text (an audio turn by its transcript, as in a rebuild).
   */
  async insertAfter(anchorItemId: string | null, apply: () => Promise<void>): Promise<void> {
    const anchor = anchorItemId === null ? -1 : this.history.findLastIndex((e) => e.itemIds.includes(anchorItemId));
    const at = anchor + 1;
    if (at >= this.history.length || (anchorItemId !== null && anchor < 0)) return apply();
    const session = await this.ready();
    const tail = this.history.slice(at);
    const cp = tail[0].cp;
    if (cp === undefined) throw new Error('conversation turn without a checkpoint');
    const before = { history: [...this.history], audioTokens: this.appendedAudioTokens };
    try {
      await this.guard(session.rewind(cp));
      this.history.length = at;
      this.appendedAudioTokens = this.history.reduce((n, e) => n + (e.role === 'user' ? e.audioTokens : 0), 0);
      await apply();
      for (const entry of tail) await this.reappend(entry);
    } catch (err) {
      // The session was already rewound past the later turns: without the insert, they must come back.
      // The history is put back as it was and the next use rebuilds the session from it.
      this.history.splice(0, this.history.length, ...before.history);
      this.appendedAudioTokens = before.audioTokens;
      this.broken = true;
      throw err;
    }
  }

  /** A turn appended again after an insert before it, as text (audio by its transcript). */
  private async reappend(entry: HistoryEntry): Promise<void> {
    if (entry.role === 'user') await this.appendUserText(entry.text ?? '', entry.itemIds);
    else if (entry.role === 'assistant') await this.appendAssistant(entry.text, entry.itemIds);
    else if (entry.role === 'tool') await this.appendToolResponse(entry.json, entry.itemIds);
    else {
      const session = await this.ready();
      const cp = session.checkpoint();
      await this.guard(
        session.appendSystem({
          instructions: entry.system.instructions,
          ...(entry.system.tools.length > 0 ? { tools: entry.system.tools } : {}),
        }),
      );
      this.history.push({ ...entry, cp });
    }
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await session.dispose();
  }
}
