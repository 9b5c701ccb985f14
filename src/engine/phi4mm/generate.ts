// Text generation over one persistent KV cache: embedding graph -> text graph, prefill in chunks (each
// chunk one scheduler step; and a graph kept as exported returns logits for every input position, 800 KB
// per position in float32), then a decode loop of one token per run. Abort is checked
// before every step; the caller decides what to keep (length / truncate give checkpoint and rewind).

import type * as ort from 'onnxruntime-node';
import { EarshotError } from '../../errors.ts';
import { StreamingDetokenizer } from './detokenizer.ts';
import type { AudioEmbedding } from './generate_audio.ts';
import { KvCache } from './kv_cache.ts';
import { InPlaceKvCache } from './kv_cache_in_place.ts';
import type { ModelIo } from './model_check.ts';
import { argmaxInRanges, SeededRandom, selectToken, type SamplingOptions } from './sampling.ts';
import { blockedIdRanges } from './token_mask.ts';
import { concatRows, emptyFloatTensor, floatRowView, int64Tensor, onesMask, runGraph, sliceRows } from './tensors.ts';
import type { Phi4Tokenizer } from './tokenizer.ts';
import { DEFAULT_STOP_IDS, TOKEN_ID } from './tokenizer_ids.ts';
import type { StepRow } from './batched_step_types.ts';

export interface TextModel {
  embedding: ort.InferenceSession;
  text: ort.InferenceSession;
  /** Extra text-graph feeds (the rewritten graph's logits start); absent: none. */
  textFeeds?(logits: boolean): Record<string, ort.Tensor>;
  io: Pick<
    ModelIo,
    'floatType' | 'numLayers' | 'numKvHeads' | 'headSize' | 'hiddenSize' | 'vocabSize' | 'contextLength' | 'names'
  >;
}

/** Runs one-token decode steps of several sessions together (the engine's StepBatcher implements it). */
export interface DecodeStepBatcher {
  /** Whether a step at this cache length can join a batch. */
  accepts(cacheLength: number): boolean;
  /** The step's logits, computed in a batch with other sessions' steps. */
  step(row: StepRow): Promise<Float32Array>;
}

export interface GenerationSessionOptions {
  /** Tokens per prefill run (default 64: 64 x 200064 x 4 B = 51 MB of logits per run in float32). */
  prefillChunkTokens?: number;
  /** Text-graph LoRA feeds, added to every text-graph run (only when the adapter matched). */
  loraFeeds?: Record<string, ort.Tensor>;
  /** Runs one-token steps batched with other sessions' (only under the engine's step scheduler). */
  stepBatcher?: DecodeStepBatcher;
  /**
   * 'in_place' (default): capacity-sized buffers the text graph appends to (kv_cache_in_place.ts);
   * 'copy': the graph returns past + new as new arrays each run (kv_cache.ts), kept to measure against.
   */
  kvCache?: KvCacheMode;
  /** Positions an in-place cache grows by (default DEFAULT_KV_GROWTH_TOKENS). */
  kvGrowthTokens?: number;
}

export type KvCacheMode = 'in_place' | 'copy';

export interface GenerateRequest {
  /** New prompt ids, audio placeholders already expanded (chat_template.buildChatPrompt). */
  inputIds: readonly number[];
  /** One embedding per clip, in the order of their 200011 runs in inputIds. */
  audio?: readonly AudioEmbedding[];
  maxNewTokens: number;
  /** Omitted or temperature <= 0: greedy. */
  sampling?: SamplingOptions;
  /** Default [200020, 199999]. */
  stopIds?: readonly number[];
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'aborted';

export interface GenerationDelta {
  /** Text completed by this token; '' when the token ends inside a UTF-8 character. */
  text: string;
  /** Undefined only for the final flush of an unfinished character. */
  tokenId?: number;
}

export interface GenerateResult {
  /** Generated ids, without the stop token. */
  tokenIds: number[];
  stopTokenId?: number;
  text: string;
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
}

export class GenerationSession {
  readonly cache: KvCache | InPlaceKvCache;
  /** Ids that belong to the conversation but are not in the cache yet (the last sampled token). */
  private pending: number[] = [];
  private readonly chunkTokens: number;
  private loraFeeds: Record<string, ort.Tensor>;
  private readonly stepBatcher: GenerationSessionOptions['stepBatcher'];
  private busy = false;

  constructor(
    private readonly model: TextModel,
    private readonly tokenizer: Phi4Tokenizer,
    options: GenerationSessionOptions = {},
  ) {
    const io = model.io;
    const names = io.names.text;
    const shape = {
      numLayers: io.numLayers,
      numKvHeads: io.numKvHeads,
      headSize: io.headSize,
      floatType: io.floatType,
    };
    this.cache =
      (options.kvCache ?? 'in_place') === 'in_place'
        ? new InPlaceKvCache(shape, names, { growthTokens: options.kvGrowthTokens, maxTokens: io.contextLength })
        : new KvCache({
            ...shape,
            pastKeyName: (i) => names.pastKeys[i],
            pastValueName: (i) => names.pastValues[i],
            presentKeyName: (i) => names.presentKeys[i],
            presentValueName: (i) => names.presentValues[i],
          });
    this.chunkTokens = Math.max(1, Math.floor(options.prefillChunkTokens ?? 64));
    this.loraFeeds = options.loraFeeds ?? {};
    this.stepBatcher = options.stepBatcher;
  }

  /** Tokens in the conversation (cached + pending). */
  get length(): number {
    return this.cache.length + this.pending.length;
  }

  get kvBytes(): number {
    return this.cache.bytes;
  }

  /**
   * The next token from the last position's logits: padding columns above maxTokenId, ids without a
   * token and the control ids only the template writes (token_mask.ts) are masked (the logits are
   * modified in place), then greedy or seeded sampling.
   */
  pickToken(logits: Float32Array, sampling: SamplingOptions | undefined, rng: SeededRandom): number {
    // Greedy: the largest logit among usable ids, without writing the masks (the same choice).
    if (sampling === undefined || !(sampling.temperature > 0)) return argmaxInRanges(logits, this.usableIdRanges());
    for (const [start, end] of blockedIdRanges(this.tokenizer)) logits.fill(Number.NEGATIVE_INFINITY, start, end);
    return selectToken(logits, this.maxTokenId, sampling, rng);
  }

  private usable: [number, number][] | undefined;

  /** [start, end) ranges of the ids that may be generated: up to maxTokenId, minus the blocked ones. */
  private usableIdRanges(): [number, number][] {
    if (this.usable) return this.usable;
    const ranges: [number, number][] = [];
    let next = 0;
    const end = this.maxTokenId + 1;
    for (const [start, stop] of blockedIdRanges(this.tokenizer)) {
      if (start > next) ranges.push([next, Math.min(start, end)]);
      next = Math.max(next, stop);
    }
    if (next < end) ranges.push([next, end]);
    this.usable = ranges.filter(([a, b]) => b > a);
    return this.usable;
  }

  /** Highest token id that may be generated: padding columns above it are masked. */
  get maxTokenId(): number {
    return Math.min(this.tokenizer.maxRealTokenId, this.model.io.vocabSize - 1);
  }

  setLoraFeeds(feeds: Record<string, ort.Tensor> | undefined): void {
    this.loraFeeds = feeds ?? {};
  }

  /** Rewind to `length` tokens (a checkpoint taken with `length`). */
  truncate(length: number): void {
    if (length >= this.cache.length) {
      if (length > this.length)
        throw new EarshotError('E_INTERNAL', `Cannot truncate ${this.length} tokens to ${length}.`);
      this.pending = this.pending.slice(0, length - this.cache.length);
      return;
    }
    this.pending = [];
    this.cache.truncate(length);
  }

  /**
   * Feed ids (pending ones first) through embedding + text graphs in chunks; returns the float32 logits
   * of the last position, or undefined when aborted between chunks (the cache then holds a prefix of the
   * ids and the rest is dropped: rewind with `truncate`).
   */
  /**
   * Feeds ids (and the audio rows for their placeholders) into the cache and returns the logits of the last
   * position, or undefined when aborted or when `options.logits` is false. The text graph computes logits
   * for every position of a run, and the lm_head (hidden x 200064) dominates its cost; onnxruntime skips it
   * when `logits` is not fetched. So every run but the last fetches only the KV outputs, and the last run is
   * the single final token: one row of logits instead of a chunk's worth.
   */
  async append(
    inputIds: readonly number[],
    audio: readonly AudioEmbedding[] = [],
    signal?: AbortSignal,
    options: { logits?: boolean } = {},
  ): Promise<Float32Array | undefined> {
    const wantLogits = options.logits ?? true;
    const ids = [...this.pending, ...inputIds];
    if (ids.length === 0) throw new EarshotError('E_INTERNAL', 'Nothing to prefill.');
    const audioPositions = ids.reduce((n, id) => n + (id === TOKEN_ID.audio ? 1 : 0), 0);
    const audioRows = audio.reduce((n, a) => n + a.rows, 0);
    if (audioPositions !== audioRows) {
      throw new EarshotError(
        'E_PROMPT_AUDIO_MISMATCH',
        `The prompt has ${audioPositions} audio token positions but the audio clips have ${audioRows} rows.`,
      );
    }
    const { hiddenSize, floatType, contextLength } = this.model.io;
    if (this.cache.length + ids.length > contextLength) {
      throw new EarshotError(
        'E_ENGINE',
        `The context would reach ${this.cache.length + ids.length} tokens, over the ${contextLength}-token limit.`,
      );
    }
    this.pending = [];
    const allAudio =
      audio.length === 0
        ? undefined
        : audio.length === 1
          ? audio[0].tensor
          : concatRows(
              floatType,
              audio.map((a) => a.tensor),
              hiddenSize,
            );
    let audioRow = 0;
    let logits: Float32Array | undefined;
    const ranges: [number, number][] = [];
    const bulkEnd = wantLogits ? ids.length - 1 : ids.length;
    for (let start = 0; start < bulkEnd; start += this.chunkTokens)
      ranges.push([start, Math.min(bulkEnd, start + this.chunkTokens)]);
    if (wantLogits) ranges.push([ids.length - 1, ids.length]);
    for (const [start, end] of ranges) {
      if (signal?.aborted) {
        // The cache keeps the prefix fed so far; the caller rewinds to its checkpoint.
        return undefined;
      }
      const chunk = ids.slice(start, end);
      const rows = chunk.reduce((n, id) => n + (id === TOKEN_ID.audio ? 1 : 0), 0);
      const features =
        rows === 0 || allAudio === undefined
          ? undefined
          : sliceRows(allAudio, hiddenSize, audioRow, rows, [rows, hiddenSize]);
      audioRow += rows;
      const embeds = await this.embed(chunk, features);
      logits = await this.runText(embeds, chunk.length, wantLogits && end === ids.length);
    }
    return logits;
  }

  /** Run the embedding graph: `[1, ids.length, hidden]` with audio rows written at the 200011 positions. */
  async embed(ids: readonly number[], audioFeatures?: ort.Tensor): Promise<ort.Tensor> {
    const { floatType, hiddenSize, names } = this.model.io;
    const n = names.embedding;
    const empty = emptyFloatTensor(floatType, [0, hiddenSize]);
    const feeds = {
      [n.inputIds]: int64Tensor(ids, [1, ids.length]),
      [n.imageFeatures]: empty,
      [n.audioFeatures]: audioFeatures ?? empty,
    };
    const outputs = await runGraph(this.model.embedding, feeds, 'The embedding graph failed');
    const embeds = outputs[n.inputsEmbeds] as ort.Tensor | undefined;
    if (embeds === undefined)
      throw new EarshotError('E_ENGINE', `The embedding graph did not return ${n.inputsEmbeds}.`);
    return embeds;
  }

  private async runText(embeds: ort.Tensor, seqLength: number, wantLogits = true): Promise<Float32Array | undefined> {
    if (seqLength === 1 && wantLogits && this.stepBatcher?.accepts(this.cache.length)) {
      try {
        return await this.stepBatcher.step({ cache: this.cache, embeds, loraFeeds: this.loraFeeds });
      } finally {
        embeds.dispose();
      }
    }
    const { names, vocabSize } = this.model.io;
    const n = names.text;
    if (this.cache instanceof InPlaceKvCache) return this.runTextInPlace(this.cache, embeds, seqLength, wantLogits);
    const feeds = {
      ...this.loraFeeds,
      ...this.model.textFeeds?.(wantLogits),
      ...this.cache.feeds(),
      [n.inputsEmbeds]: embeds,
      [n.attentionMask]: onesMask(this.cache.length + seqLength),
    };
    const outputs = await runGraph(
      this.model.text,
      feeds,
      'The text graph failed',
      wantLogits ? undefined : this.presentNames(),
    );
    embeds.dispose();
    if (!wantLogits) {
      this.cache.update(outputs as Record<string, ort.Tensor>, seqLength);
      return undefined;
    }
    const logits = outputs[n.logits] as ort.Tensor | undefined;
    if (logits === undefined || logits.dims.at(-1) !== vocabSize) {
      throw new EarshotError(
        'E_ENGINE',
        `The text graph returned logits of shape [${logits?.dims.join(', ') ?? 'none'}], expected [1, 1 or ${seqLength}, ${vocabSize}].`,
      );
    }
    this.cache.update(outputs as Record<string, ort.Tensor>, seqLength);
    // Only the last position's row matters for the next token (the rewritten graph returns only that row).
    const last = floatRowView(logits, (logits.dims[1] - 1) * vocabSize, vocabSize);
    logits.dispose();
    return last;
  }

  /** runText over a cache the graph appends to in place: past and present are the same tensors. */
  private async runTextInPlace(
    cache: InPlaceKvCache,
    embeds: ort.Tensor,
    seqLength: number,
    wantLogits: boolean,
  ): Promise<Float32Array | undefined> {
    const { names, vocabSize } = this.model.io;
    const n = names.text;
    cache.reserve(seqLength);
    const kv = cache.bindings();
    const feeds = {
      ...this.loraFeeds,
      ...this.model.textFeeds?.(wantLogits),
      ...kv.feeds,
      [n.inputsEmbeds]: embeds,
      [n.attentionMask]: onesMask(cache.length + seqLength),
    };
    // Without logits in the fetches onnxruntime skips the lm_head. The presents it returns are copies of
    // the buffers it wrote into (onnxruntime-node 1.30): ignored.
    const fetches = wantLogits ? { [n.logits]: null, ...kv.fetches } : kv.fetches;
    const outputs = await runGraph(this.model.text, feeds, 'The text graph failed', fetches);
    embeds.dispose();
    cache.commit(seqLength);
    if (!wantLogits) return undefined;
    const logits = outputs[n.logits] as ort.Tensor | undefined;
    if (logits === undefined || logits.dims.at(-1) !== vocabSize) {
      throw new EarshotError(
        'E_ENGINE',
        `The text graph returned logits of shape [${logits?.dims.join(', ') ?? 'none'}], expected [1, 1 or ${seqLength}, ${vocabSize}].`,
      );
    }
    const last = floatRowView(logits, (logits.dims[1] - 1) * vocabSize, vocabSize);
    logits.dispose();
    return last;
  }

  /** The text graph's KV outputs: fetching only these skips the lm_head. */
  private presentNames(): string[] {
    return this.model.text.outputNames.filter((name) => name !== this.model.io.names.text.logits);
  }

  /** Prefill the request's ids, then decode until a stop id, maxNewTokens or abort. */
  async generate(request: GenerateRequest, onDelta?: (delta: GenerationDelta) => void): Promise<GenerateResult> {
    if (this.busy) throw new EarshotError('E_ENGINE_BUSY', 'This session is already generating.');
    this.busy = true;
    try {
      return await this.generateUnlocked(request, onDelta);
    } finally {
      this.busy = false;
    }
  }

  private async generateUnlocked(
    request: GenerateRequest,
    onDelta?: (delta: GenerationDelta) => void,
  ): Promise<GenerateResult> {
    const { signal } = request;
    const stopIds = new Set(request.stopIds ?? DEFAULT_STOP_IDS);
    const rng = new SeededRandom(request.sampling?.seed ?? 0);
    const detok = new StreamingDetokenizer(this.tokenizer);
    const promptTokens = this.pending.length + request.inputIds.length;
    const tokenIds: number[] = [];
    let text = '';
    let stopTokenId: number | undefined;
    let finishReason: FinishReason = 'length';

    let logits =
      request.inputIds.length > 0 || this.pending.length > 0
        ? await this.append(request.inputIds, request.audio, signal)
        : undefined;
    if (logits === undefined) {
      if (!signal?.aborted) throw new EarshotError('E_INTERNAL', 'Generation needs a prompt or a pending token.');
      finishReason = 'aborted';
    } else {
      for (;;) {
        if (signal?.aborted) {
          finishReason = 'aborted';
          break;
        }
        const tokenId = this.pickToken(logits, request.sampling, rng);
        if (stopIds.has(tokenId)) {
          stopTokenId = tokenId;
          this.pending = [tokenId];
          finishReason = 'stop';
          break;
        }
        tokenIds.push(tokenId);
        const delta = detok.push(tokenId);
        text += delta;
        onDelta?.({ text: delta, tokenId });
        if (tokenIds.length >= request.maxNewTokens) {
          this.pending = [tokenId];
          finishReason = 'length';
          break;
        }
        if (signal?.aborted) {
          this.pending = [tokenId];
          finishReason = 'aborted';
          break;
        }
        logits = await this.append([tokenId]);
        if (logits === undefined) throw new EarshotError('E_INTERNAL', 'A decode step returned no logits.');
      }
    }
    const tail = detok.flush();
    if (tail.length > 0) {
      text += tail;
      onDelta?.({ text: tail });
    }
    return {
      tokenIds,
      stopTokenId,
      text,
      finishReason,
      usage: { promptTokens, completionTokens: tokenIds.length + (stopTokenId === undefined ? 0 : 1) },
    };
  }

  dispose(): void {
    this.pending = [];
    this.cache.dispose();
  }
}

/** One-call form: generate on a session (see GenerationSession.generate). */
export function generate(
  session: GenerationSession,
  request: GenerateRequest,
  onDelta?: (delta: GenerationDelta) => void,
): Promise<GenerateResult> {
  return session.generate(request, onDelta);
}
