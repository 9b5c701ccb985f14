// The Phi-4 engine in process: one loaded model, a step scheduler shared by every session, encoded audio
// kept by handle. It runs inside the engine worker (engine_worker.ts); onnxruntime's run() must never
// block the server's event loop, so the server uses EngineHost, not this class directly.

import { randomUUID } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { EarshotError } from '../errors.ts';
import type { AudioHandle, SpeechEngine } from './engine_session.ts';
import { silentLogger, type EngineLogger } from './engine_logger.ts';
import { FaultInjector, installFaultHooks } from './fault_injection.ts';
import { Phi4Session, type Phi4SessionOptions } from './phi4_session.ts';
import { extractFeatures } from './phi4mm/features.ts';
import { encodeAudio, type AudioEmbedding } from './phi4mm/generate_audio.ts';
import { loadPhi4Model, type Phi4Model } from './phi4mm/onnx_sessions.ts';
import { loadTokenizer, type Phi4Tokenizer } from './phi4mm/tokenizer.ts';
import { DEFAULT_MAX_PENDING_REQUESTS, StepScheduler } from './scheduler.ts';
import { StepBatcher } from './step_batcher.ts';
import { DEFAULT_CONTEXT_BUDGET_TOKENS } from './context_budget.ts';
import type { KvCacheMode } from './phi4mm/generate.ts';
import { assertProviderAvailable, providerSessionOptions, type ExecutionProvider } from './execution_provider.ts';

export interface Phi4EngineOptions {
  modelDir: string;
  /** Default context budget of new sessions (default 4096). */
  contextBudgetTokens?: number;
  /** Requests queued or running before new ones fail with E_ENGINE_BUSY (default 64). */
  maxPendingRequests?: number;
  /** Tokens per prefill run (default 64). */
  prefillChunkTokens?: number;
  /** onnxruntime session options (e.g. intraOpNumThreads); merged over the loader's defaults. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Rows per batched one-token run (default 16; 1 turns batching off). */
  batchMaxRows?: number;
  /** Sessions longer than this step alone (default 1024). */
  batchMaxContextTokens?: number;
  /** Apply the variant's speech LoRA by rewriting the decoder's LoRA branches when it fits (default true). */
  applySpeechAdapter?: boolean;
  /** 'cpu' (default) or 'cuda': checked before loading (E_ENGINE_PROVIDER when not installed). */
  executionProvider?: ExecutionProvider;
  /** KV cache kind (default 'in_place'; 'copy' is the older path, kept to measure against). */
  kvCache?: KvCacheMode;
  /** Positions an in-place KV cache grows by (default DEFAULT_KV_GROWTH_TOKENS). */
  kvGrowthTokens?: number;
  log?: EngineLogger;
}

/** applied: rewritten into the decoder at its rank; merged: the decoder has no LoRA branches (nothing to apply). */
export type AdapterStatus =
  | { status: 'applied'; tensorCount: number; rank?: number; graphRank?: number }
  | { status: 'refused'; mismatches: string[] }
  | { status: 'absent'; reason?: string }
  | { status: 'merged' };

export interface EngineInfo {
  modelDir: string;
  floatType: 'float32' | 'float16';
  numLayers: number;
  hiddenSize: number;
  contextLength: number;
  contextBudgetTokens: number;
  adapter: AdapterStatus;
  /** The text graph runs its lm_head on the last position only (phi4mm/graph_rewrite.ts). */
  lastPositionLogits: boolean;
  kvCache: KvCacheMode;
  executionProvider: ExecutionProvider;
}

export interface EngineTotals {
  sessions: number;
  /** KV bytes held by all live sessions. */
  kvBytes: number;
  audioHandles: number;
  pendingRequests: number;
  steps: number;
  /** Longest wait of a lane for its next step over the last one to two seconds, ms (scheduler.ts). */
  maxStepWaitMs: number;
  /** Batched one-token runs and the rows they carried. */
  batchRuns: number;
  batchRows: number;
}

/** The engine's view of the load-time LoRA rewrite, with a warning when the speech LoRA is not in effect. */
function adapterStatus(model: Phi4Model, log: EngineLogger): AdapterStatus {
  const lora = model.lora;
  if (lora === undefined)
    return { status: 'absent', reason: 'the decoder graph was loaded with initializer overrides' };
  const cache = model.textGraphCache;
  if (cache?.location === 'user_cache' && !cache.reused)
    log.info(
      { path: cache.path },
      'model directory not writable: the rewritten decoder graph is cached in the user cache directory',
    );
  if (cache?.problem)
    log.warn({ problem: cache.problem }, 'rewritten decoder graph not cached: the next start redoes the rewrite');
  const mayNotTranscribe = 'the base model runs without the speech LoRA and may refuse to transcribe';
  switch (lora.speechAdapter) {
    case 'applied':
      if (lora.problems.length > 0) log.warn({ problems: lora.problems }, 'speech LoRA applied with notes');
      return {
        status: 'applied',
        tensorCount: lora.appliedBranches * 4,
        rank: lora.speechAdapterRank,
        graphRank: lora.graphLoraRank,
      };
    case 'refused':
      log.warn(
        { mismatches: lora.problems },
        `speech LoRA adapter refused (${lora.problems.length} problem(s)); ${mayNotTranscribe}`,
      );
      return { status: 'refused', mismatches: lora.problems };
    case 'merged':
      return { status: 'merged' };
    default:
      log.warn({ reason: lora.problems.join('; ') }, `speech LoRA not applied; ${mayNotTranscribe}`);
      return { status: 'absent', reason: lora.problems.join('; ') || undefined };
  }
}

export class Phi4Engine implements SpeechEngine {
  readonly scheduler: StepScheduler;
  readonly stepBatcher: StepBatcher;
  /** Test hook: makes one graph run throw (fault_injection.ts). */
  readonly faults = new FaultInjector();
  private readonly audio = new Map<string, AudioEmbedding>();
  private readonly sessions = new Set<Phi4Session>();
  private nextSession = 0;
  private closed = false;

  private constructor(
    readonly model: Phi4Model,
    readonly tokenizer: Phi4Tokenizer,
    readonly info: EngineInfo,
    private readonly options: Phi4EngineOptions,
    private readonly log: EngineLogger,
  ) {
    this.scheduler = new StepScheduler(options.maxPendingRequests ?? DEFAULT_MAX_PENDING_REQUESTS);
    this.stepBatcher = new StepBatcher(
      model,
      { maxRows: options.batchMaxRows, maxContextTokens: options.batchMaxContextTokens },
      () => this.scheduler.notifyParked(),
    );
    this.scheduler.setBatcher(this.stepBatcher);
    installFaultHooks(
      model,
      { embedding: model.io.names.embedding.inputIds, text: model.io.names.text.inputsEmbeds },
      this.faults,
    );
  }

  /** Load the model directory; throws E_MODEL_MISSING / E_MODEL_INVALID with the reason. */
  static async load(options: Phi4EngineOptions): Promise<Phi4Engine> {
    const log = options.log ?? silentLogger;
    const provider = options.executionProvider ?? 'cpu';
    assertProviderAvailable(provider);
    const sessionOptions = { ...providerSessionOptions(provider), ...options.sessionOptions };
    const model = await loadPhi4Model(options.modelDir, {
      sessionOptions,
      applySpeechAdapter: options.applySpeechAdapter !== false,
    });
    const adapter = adapterStatus(model, log);
    let tokenizer: Phi4Tokenizer;
    try {
      tokenizer = await loadTokenizer(model.dir);
    } catch (error) {
      await model.dispose();
      throw error;
    }
    const io = model.io;
    const info: EngineInfo = {
      modelDir: model.dir,
      floatType: io.floatType,
      numLayers: io.numLayers,
      hiddenSize: io.hiddenSize,
      contextLength: io.contextLength,
      contextBudgetTokens: Math.min(options.contextBudgetTokens ?? DEFAULT_CONTEXT_BUDGET_TOKENS, io.contextLength),
      adapter,
      lastPositionLogits: model.lastPositionLogits.applied,
      kvCache: options.kvCache ?? 'in_place',
      executionProvider: provider,
    };
    if (provider === 'cuda' && io.floatType === 'float32') {
      log.warn(
        { modelDir: model.dir },
        'CUDA with a float32 (CPU) export: the GPU export (float16, `earshot model pull --variant gpu`) halves the bytes moved per step',
      );
    }
    if (!model.lastPositionLogits.applied) {
      log.warn(
        { reason: model.lastPositionLogits.reason },
        'text graph kept as exported: prefill runs compute logits for every position',
      );
    }
    log.info({ ...info, adapter: adapter.status, graphCache: model.textGraphCache }, 'engine model loaded');
    return new Phi4Engine(model, tokenizer, info, options, log);
  }

  totals(): EngineTotals {
    let kvBytes = 0;
    for (const s of this.sessions) kvBytes += s.kvBytes;
    const { pending, steps, maxStepWaitMs } = this.scheduler.stats();
    const batches = this.stepBatcher.stats();
    return {
      sessions: this.sessions.size,
      kvBytes,
      audioHandles: this.audio.size,
      pendingRequests: pending,
      steps,
      maxStepWaitMs,
      batchRuns: batches.runs,
      batchRows: batches.rows,
    };
  }

  encodeAudio(pcm: Float32Array, sampleRateHz: 16000 | 8000): Promise<AudioHandle> {
    if (sampleRateHz !== 16000 && sampleRateHz !== 8000) {
      return Promise.reject(
        new EarshotError(
          'E_UNSUPPORTED_FORMAT',
          `encodeAudio takes 16000 or 8000 Hz audio, not ${String(sampleRateHz)}.`,
        ),
      );
    }
    const id = `audio-${randomUUID()}`;
    const engine = this;
    return this.scheduler.submit(id, async function* (): AsyncGenerator<void, AudioHandle, void> {
      const features = extractFeatures(pcm, sampleRateHz);
      if (features.frames < 1)
        throw new EarshotError(
          'E_UNSUPPORTED_FORMAT',
          `The audio is too short to encode (${pcm.length} samples at ${sampleRateHz} Hz).`,
        );
      yield;
      const embedding = await encodeAudio(engine.model, features);
      if (engine.closed) throw new EarshotError('E_ENGINE', 'The engine is closed.');
      engine.audio.set(id, embedding);
      return { id, audioTokens: embedding.rows, durationMs: (pcm.length / sampleRateHz) * 1000 };
    });
  }

  releaseAudio(handle: AudioHandle): void {
    // Sessions that used the clip keep their own reference (for rebuilds); the engine forgets it.
    this.audio.delete(handle.id);
  }

  resolveAudio(id: string): AudioEmbedding {
    const embedding = this.audio.get(id);
    if (embedding === undefined) throw new EarshotError('E_INTERNAL', `Unknown or released audio handle ${id}.`);
    return embedding;
  }

  async createSession(options: Phi4SessionOptions = {}): Promise<Phi4Session> {
    if (this.closed) throw new EarshotError('E_ENGINE', 'The engine is closed.');
    const session = new Phi4Session(
      `s${++this.nextSession}`,
      {
        model: this.model,
        tokenizer: this.tokenizer,
        scheduler: this.scheduler,
        resolveAudio: (id) => this.resolveAudio(id),
        stepBatcher: this.stepBatcher,
        faults: this.faults,
        log: this.log,
        onDispose: (s) => this.sessions.delete(s),
        kvCache: this.info.kvCache,
        kvGrowthTokens: this.options.kvGrowthTokens,
      },
      {
        contextBudgetTokens: options.contextBudgetTokens ?? this.info.contextBudgetTokens,
        prefillChunkTokens: options.prefillChunkTokens ?? this.options.prefillChunkTokens,
        generationReserveTokens: options.generationReserveTokens,
        keepTurnLogits: options.keepTurnLogits,
      },
    );
    this.sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.scheduler.close();
    for (const s of [...this.sessions]) s.disposeNow();
    this.audio.clear();
    await this.model.dispose();
  }
}
