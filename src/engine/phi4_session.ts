// One persistent Phi-4 conversation over one KV cache (design decision 6). Every operation is a job of
// the engine's step scheduler on this session's lane, cut into steps (prefill chunks, decode steps) so
// that sessions interleave. Appends prefill only their own tokens; checkpoint + rewind make side passes
// leave no trace; past the context budget the conversation is rebuilt (context_budget.ts).

import { EarshotError } from '../errors.ts';
import { planRebuild, DEFAULT_CONTEXT_BUDGET_TOKENS } from './context_budget.ts';
import type {
  Checkpoint,
  EngineSession,
  EngineStats,
  GenerateOptions,
  GenerationEvent,
  ToolSpec,
  TurnRef,
  UserPart,
} from './engine_session.ts';
import type { EngineLogger } from './engine_logger.ts';
import { GenerationSession, type KvCacheMode, type TextModel } from './phi4mm/generate.ts';
import type { AudioEmbedding } from './phi4mm/generate_audio.ts';
import { SeededRandom } from './phi4mm/sampling.ts';
import { concatRows, sliceRows } from './phi4mm/tensors.ts';
import type { Phi4Tokenizer } from './phi4mm/tokenizer.ts';
import { TOKEN_ID } from './phi4mm/tokenizer_ids.ts';
import { checkPromptIds, isGeneratable } from './phi4mm/token_mask.ts';
import type { FaultInjector } from './fault_injection.ts';
import { restoreSnapshot, takeSnapshot, trimAudioToRows, type SessionSnapshot } from './phi4_session_rollback.ts';
import {
  isOpen,
  systemIds,
  turnCosts,
  userIdsSliced,
  wrappedIdsSliced,
  type Turn,
  type TurnPart,
} from './phi4_session_turns.ts';
import { compactTurns, turnsAtCheckpoint } from './phi4_session_rebuild.ts';
import { decodeLoop, type DecodeTarget, type GenerationControl } from './phi4_session_decode.ts';
import type { StepJob, StepScheduler } from './scheduler.ts';
import { eventChannel } from './event_channel.ts';
import type { StepBatcher } from './step_batcher.ts';

/** Checkpoint with the rebuild epoch: positions taken before a rebuild are mapped through the turn log. */
export interface Phi4Checkpoint extends Checkpoint {
  readonly epoch: number;
}

export interface SessionEnvironment {
  model: TextModel;
  tokenizer: Phi4Tokenizer;
  scheduler: StepScheduler;
  resolveAudio(id: string): AudioEmbedding;
  /** Batches one-token steps with other sessions' (absent: every step runs alone). */
  stepBatcher?: StepBatcher;
  /** Test hook told when a rebuild re-prefills (fault_injection.ts). */
  faults?: FaultInjector;
  log: EngineLogger;
  /** Called once when the session is disposed. */
  onDispose(session: Phi4Session): void;
  /** KV cache kind of every session (default 'in_place') and an in-place cache's growth chunk. */
  kvCache?: KvCacheMode;
  kvGrowthTokens?: number;
}

export interface Phi4SessionOptions {
  contextBudgetTokens?: number;
  /** Tokens per prefill run (default 64). */
  prefillChunkTokens?: number;
  /** Room kept for an answer when deciding whether a generation needs a rebuild (default min(512, budget / 8)). */
  generationReserveTokens?: number;
  /** Compute and keep the logits of every appended turn's last position in `lastLogits` (tests compare caches
   * through them); off, only generations compute logits, which saves a 200064-wide row per appended turn. */
  keepTurnLogits?: boolean;
}

export type { GenerationControl } from './phi4_session_decode.ts';

export type DoneEvent = Extract<GenerationEvent, { type: 'done' }>;

export class Phi4Session implements EngineSession {
  readonly gen: GenerationSession;
  readonly budgetTokens: number;
  /** Logits of the last position fed, with keepTurnLogits (for tests: equal whether fed turn by turn or at once). */
  lastLogits: Float32Array | undefined;
  private readonly keepTurnLogits: boolean;
  private readonly chunkTokens: number;
  private readonly reserveTokens: number;
  private turns: Turn[] = [];
  /** Ids in the conversation but not in the cache yet (a sampled token, an `<|end|>` closing a turn; after a
   * failed rebuild, the whole restored conversation). */
  private pending: number[] = [];
  /** Audio clips whose rows are the audio ids in `pending`, in order. */
  private pendingAudio: AudioEmbedding[] = [];
  private nextTurnIndex = 0;
  private epoch = 0;
  private rebuilds = 0;
  private disposed = false;
  /** Ids fed by the last append (pending ones included): a generation's prompt tokens. */
  private lastFedTokens = 0;

  constructor(
    readonly id: string,
    private readonly env: SessionEnvironment,
    options: Phi4SessionOptions = {},
  ) {
    this.budgetTokens = Math.min(
      options.contextBudgetTokens ?? DEFAULT_CONTEXT_BUDGET_TOKENS,
      env.model.io.contextLength,
    );
    if (!(this.budgetTokens >= 16))
      throw new EarshotError(
        'E_INTERNAL',
        `contextBudgetTokens must be at least 16, got ${options.contextBudgetTokens}`,
      );
    this.chunkTokens = Math.max(1, Math.floor(options.prefillChunkTokens ?? 64));
    this.reserveTokens = Math.max(
      1,
      options.generationReserveTokens ?? Math.min(512, Math.floor(this.budgetTokens / 8)),
    );
    this.keepTurnLogits = options.keepTurnLogits ?? false;
    // Chunking is done here (so chunks are scheduler steps); the generation session feeds what it is given.
    this.gen = new GenerationSession(env.model, env.tokenizer, {
      prefillChunkTokens: Number.MAX_SAFE_INTEGER,
      stepBatcher: env.stepBatcher,
      kvCache: env.kvCache,
      kvGrowthTokens: env.kvGrowthTokens,
    });
  }

  get length(): number {
    return this.gen.length + this.pending.length;
  }

  get kvBytes(): number {
    return this.disposed ? 0 : this.gen.kvBytes;
  }

  /** The conversation's ids (cached and pending), for tests and logs. */
  tokenIds(): number[] {
    return this.turns.flatMap((t) => t.ids);
  }

  /** Audio clips of the conversation in order (for tests comparing with a one-shot prefill). */
  audioClips(): AudioEmbedding[] {
    return this.turns.flatMap((t) => t.audio);
  }

  stats(): EngineStats {
    return {
      tokens: this.length,
      kvBytes: this.kvBytes,
      contextBudgetTokens: this.budgetTokens,
      rebuilds: this.rebuilds,
      audioTokens: this.audioTokens(),
    };
  }

  /** Audio placeholder positions in the conversation (replaced audio no longer counts). */
  private audioTokens(): number {
    let n = 0;
    for (const t of this.turns) for (const a of t.audio) n += a.rows;
    return n;
  }

  checkpoint(): Phi4Checkpoint {
    return { length: this.length, turns: this.nextTurnIndex, epoch: this.epoch };
  }

  setTranscript(turn: TurnRef, transcript: string): void {
    const t = this.turns.find((x) => x.index === turn.index);
    if (t !== undefined && t.kind === 'user') t.transcript = transcript;
  }

  appendSystem(content: { instructions: string; tools?: ToolSpec[] }): Promise<void> {
    return this.submit(async function* (this: Phi4Session) {
      yield* this.appendTurn({
        kind: 'system',
        ids: systemIds(this.env.tokenizer, content.instructions, content.tools),
        audio: [],
      });
    });
  }

  appendUser(parts: UserPart[]): Promise<TurnRef> {
    return this.submit(async function* (this: Phi4Session) {
      const turnParts: TurnPart[] = parts.map((p) =>
        p.type === 'text' ? p : { type: 'audio', audio: this.env.resolveAudio(p.audio.id), audioId: p.audio.id },
      );
      const { ids, audio } = yield* userIdsSliced(this.env.tokenizer, turnParts);
      const index = yield* this.appendTurn({ kind: 'user', ids, audio, parts: turnParts });
      return { index };
    });
  }

  appendAssistant(text: string): Promise<void> {
    return this.submit(async function* (this: Phi4Session) {
      const ids = yield* wrappedIdsSliced(this.env.tokenizer, TOKEN_ID.assistant, text);
      yield* this.appendTurn({ kind: 'assistant', ids, audio: [] });
    });
  }

  appendToolResponse(resultJson: string): Promise<void> {
    return this.submit(async function* (this: Phi4Session) {
      const ids = yield* wrappedIdsSliced(this.env.tokenizer, TOKEN_ID.toolResponse, resultJson);
      yield* this.appendTurn({ kind: 'tool', ids, audio: [] });
    });
  }

  rewind(checkpoint: Checkpoint): Promise<void> {
    return this.submit(async function* (this: Phi4Session) {
      this.rewindNow(checkpoint as Phi4Checkpoint);
    });
  }

  generate(options: GenerateOptions, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    let consumerStopped = false;
    const channel = eventChannel<GenerationEvent>(() => (consumerStopped = true));
    const isCancelled = (): boolean => consumerStopped || signal?.aborted === true;
    this.runGeneration(options, { isCancelled, onDelta: (e) => channel.push(e) }).then(
      (done) => channel.end(done),
      (error: unknown) => channel.fail(error),
    );
    return channel.iterable;
  }

  /** generate() with an explicit control; resolves with the done event. */
  runGeneration(options: GenerateOptions, control: GenerationControl): Promise<DoneEvent> {
    return this.submit(async function* (this: Phi4Session) {
      return yield* this.generateSteps(options, control);
    });
  }

  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return this.env.scheduler.submit(
      this.id,
      async function* (this: Phi4Session): AsyncGenerator<void, void, void> {
        this.disposeNow();
      }.bind(this),
      { exempt: true },
    );
  }

  /** Frees the KV cache at once (the engine closing, or a dispose job). */
  disposeNow(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.gen.dispose();
    this.turns = [];
    this.pending = [];
    this.pendingAudio = [];
    this.lastLogits = undefined;
    this.env.onDispose(this);
  }

  private submit<T>(body: (this: Phi4Session) => AsyncGenerator<void, T, void>): Promise<T> {
    if (this.disposed) return Promise.reject(new EarshotError('E_INTERNAL', `Session ${this.id} was disposed.`));
    const job: StepJob<T> = () => {
      if (this.disposed) throw new EarshotError('E_INTERNAL', `Session ${this.id} was disposed.`);
      return this.rollingBack(body);
    };
    return this.env.scheduler.submit(this.id, job);
  }

  /**
   * Runs a job so that a failure anywhere inside it (a graph error, a bad id, a failed rebuild) leaves the
   * session as it was before the job: the same turns, length and checkpoints. The KV entries that are
   * still valid are kept; when a rebuild had already replaced them, the restored conversation becomes
   * pending and the next job re-prefills it.
   */
  private async *rollingBack<T>(
    body: (this: Phi4Session) => AsyncGenerator<void, T, void>,
  ): AsyncGenerator<void, T, void> {
    const snapshot: SessionSnapshot = takeSnapshot(
      this.turns,
      this.nextTurnIndex,
      this.pending,
      this.pendingAudio,
      this.epoch,
      this.gen.length,
    );
    try {
      return yield* body.call(this);
    } catch (error) {
      if (!this.disposed) {
        const restored = restoreSnapshot(snapshot, this.gen, this.epoch);
        this.turns = restored.turns;
        this.nextTurnIndex = snapshot.nextTurnIndex;
        this.pending = restored.pending;
        this.pendingAudio = restored.pendingAudio;
        this.epoch = snapshot.epoch;
        this.lastLogits = undefined;
        this.env.log.warn(
          {
            sessionId: this.id,
            tokens: this.length,
            reprefill: restored.reprefill,
            error: error instanceof Error ? error.message : String(error),
          },
          'engine session job failed; rolled back',
        );
      }
      throw error;
    }
  }

  /** Closes an open assistant turn with `<|end|>` before anything else is added. */
  private closeOpenTurn(): void {
    const last = this.turns.at(-1);
    if (isOpen(last)) {
      last!.ids.push(TOKEN_ID.end);
      this.pending.push(TOKEN_ID.end);
    }
  }

  /** `wantLogits`: the turn starts a generation (the assistant prefix), which samples from its last logits. */
  private async *appendTurn(
    turn: Omit<Turn, 'index'>,
    extraNeeded = 0,
    wantLogits = false,
  ): AsyncGenerator<void, number, void> {
    // Checked before anything changes: a bad id never enters the turn log (a rebuild would re-feed it).
    checkPromptIds(
      turn.ids,
      this.env.tokenizer.maxRealTokenId,
      turn.audio.reduce((n, a) => n + a.rows, 0),
    );
    if (turn.ids.length + extraNeeded > this.budgetTokens) {
      // No rebuild can make room for a turn larger than the whole budget: say so before touching the cache.
      throw new EarshotError(
        'E_CONTEXT_OVERFLOW',
        `The new ${turn.kind} turn alone needs ${turn.ids.length + extraNeeded} tokens, over the session's ${this.budgetTokens}-token context budget.`,
      );
    }
    this.closeOpenTurn();
    yield* this.ensureBudget(turn.ids.length + extraNeeded);
    const index = this.nextTurnIndex++;
    this.turns.push({ ...turn, index });
    this.lastFedTokens = yield* this.feed(turn.ids, turn.audio, wantLogits || this.keepTurnLogits);
    return index;
  }

  /**
   * Prefill the pending ids and `ids` in chunks (one scheduler step each). Logits only when asked for, and
   * only of the last position: a turn that no generation follows needs none (its tokens only fill the cache).
   */
  private async *feed(
    ids: readonly number[],
    audio: readonly AudioEmbedding[],
    wantLogits: boolean,
  ): AsyncGenerator<void, number, void> {
    const all = [...this.pending, ...ids];
    audio = [...this.pendingAudio, ...audio];
    this.pending = [];
    this.pendingAudio = [];
    const { hiddenSize, floatType } = this.env.model.io;
    const merged =
      audio.length === 0
        ? undefined
        : audio.length === 1
          ? audio[0].tensor
          : concatRows(
              floatType,
              audio.map((a) => a.tensor),
              hiddenSize,
            );
    let row = 0;
    for (let start = 0; start < all.length; start += this.chunkTokens) {
      if (start > 0) yield;
      const chunk = all.slice(start, start + this.chunkTokens);
      const rows = chunk.reduce((n, id) => n + (id === TOKEN_ID.audio ? 1 : 0), 0);
      const clip =
        rows === 0 || merged === undefined
          ? []
          : [{ rows, tensor: sliceRows(merged, hiddenSize, row, rows, [rows, hiddenSize]) }];
      row += rows;
      const last = start + this.chunkTokens >= all.length;
      const logits = await this.gen.append(chunk, clip, undefined, { logits: last && wantLogits });
      if (last) this.lastLogits = logits;
    }
    return all.length;
  }

  /** Rebuild the conversation when `neededTokens` more would cross the budget. */
  private async *ensureBudget(neededTokens: number): AsyncGenerator<void, void, void> {
    if (this.length + neededTokens <= this.budgetTokens) return;
    const before = this.length;
    const plan = planRebuild(turnCosts(this.env.tokenizer, this.turns), {
      budgetTokens: this.budgetTokens,
      neededTokens,
      slackTokens: Math.floor(this.budgetTokens / 4),
    });
    const { kept, compacted, dropped } = compactTurns(this.env.tokenizer, this.turns, plan);
    this.gen.truncate(0);
    this.pending = [];
    this.pendingAudio = [];
    this.lastLogits = undefined;
    this.turns = kept;
    this.epoch++;
    this.rebuilds++;
    const ids = kept.flatMap((t) => t.ids);
    if (ids.length > 0) {
      yield;
      this.env.faults?.rebuild(true);
      try {
        yield* this.feed(
          ids,
          kept.flatMap((t) => t.audio),
          false,
        );
      } finally {
        this.env.faults?.rebuild(false);
      }
    }
    this.env.log.info(
      {
        sessionId: this.id,
        tokensBefore: before,
        tokensAfter: this.length,
        neededTokens,
        compactedTurns: compacted,
        droppedTurns: dropped,
        rebuilds: this.rebuilds,
        budgetTokens: this.budgetTokens,
      },
      'engine session context rebuilt',
    );
  }

  private rewindNow(cp: Phi4Checkpoint): void {
    if (cp.turns > this.nextTurnIndex)
      throw new EarshotError(
        'E_INTERNAL',
        `Checkpoint at turn ${cp.turns} is ahead of the session (turn ${this.nextTurnIndex}).`,
      );
    const sameEpoch = cp.epoch === this.epoch;
    if (sameEpoch && cp.length > this.length)
      throw new EarshotError(
        'E_INTERNAL',
        `Checkpoint at ${cp.length} tokens is ahead of the session (${this.length} tokens).`,
      );
    const { kept, tokens: target } = turnsAtCheckpoint(this.turns, cp.turns, sameEpoch ? cp.length : undefined);
    if (target >= this.gen.length) {
      this.pending = this.pending.slice(0, target - this.gen.length);
      this.pendingAudio = trimAudioToRows(
        this.pendingAudio,
        this.pending.reduce((n, id) => n + (id === TOKEN_ID.audio ? 1 : 0), 0),
      );
    } else {
      this.pending = [];
      this.pendingAudio = [];
      this.gen.truncate(target);
      this.lastLogits = undefined;
    }
    this.turns = kept;
    this.nextTurnIndex = cp.turns;
  }

  private async *generateSteps(
    options: GenerateOptions,
    control: GenerationControl,
  ): AsyncGenerator<void, DoneEvent, void> {
    const rng = new SeededRandom(options.sampling?.seed ?? 0);
    const reserve = Math.min(Math.max(0, Math.floor(options.maxNewTokens)), this.reserveTokens);
    const prefixIds = options.assistantPrefix ? this.env.tokenizer.encode(options.assistantPrefix) : [];
    yield* this.appendTurn({ kind: 'assistant', ids: [TOKEN_ID.assistant, ...prefixIds], audio: [] }, reserve, true);
    const turn = this.turns.at(-1)!;
    const promptTokens = this.lastFedTokens;
    // What this generation attends to: the whole conversation when its first token is picked.
    const attended = { contextTokens: this.length, audioTokens: this.audioTokens() };
    const target: DecodeTarget = {
      full: () => this.length >= this.budgetTokens,
      pick: (logits) => {
        const tokenId = this.gen.pickToken(logits, options.sampling, rng);
        // The mask never picks one; checked anyway because a generated id is fed back as input.
        if (!isGeneratable(this.env.tokenizer, tokenId))
          throw new EarshotError(
            'E_ENGINE',
            `Generation picked token id ${tokenId}, which only the chat template may write.`,
          );
        // Picked: nothing needs these logits any more (and a batched run's rows may share one buffer).
        if (!this.keepTurnLogits) this.lastLogits = undefined;
        return tokenId;
      },
      accept: (tokenId) => {
        turn.ids.push(tokenId);
        this.pending.push(tokenId);
      },
      step: async function* (this: Phi4Session) {
        yield* this.feed([], [], true);
        return this.lastLogits!;
      }.bind(this),
    };
    const r = yield* decodeLoop(target, this.env.tokenizer, options, control, this.lastLogits!);
    const completionTokens = r.tokenIds.length + (r.stopTokenId === undefined ? 0 : 1);
    return {
      type: 'done',
      text: r.text,
      finishReason: r.finishReason,
      usage: { promptTokens, completionTokens, ...attended },
    };
  }
}
