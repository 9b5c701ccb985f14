import type { EarshotConfig } from '../config/schema.ts';
import { createEngineHost, type EngineHost } from './engine_host.ts';
import type { EngineLogger } from './engine_logger.ts';
import { resolveModelDir } from './phi4mm/model_location.ts';

/**
 * The engine as configured: the Phi-4 model directory (flag > EARSHOT_MODEL > config model.dir > cache
 * default) loaded in a worker thread. Loading is asynchronous; `ready` / `loadError` report the outcome,
 * so a server starts even without a usable model.
 */
export function createConfiguredEngine(
  config: EarshotConfig,
  opts: { modelDir?: string; log?: EngineLogger } = {},
): EngineHost {
  const e = config.engine;
  // On CUDA the default model is the GPU export (float16 boundary): half the bytes crossing per step.
  const modelDir = resolveModelDir({
    model: opts.modelDir,
    configDir: config.model.dir,
    variant: e.execution_provider === 'cuda' ? 'gpu' : undefined,
  });
  return createEngineHost({
    modelDir,
    contextBudgetTokens: e.context_budget_tokens,
    maxPendingRequests: e.max_pending_requests,
    prefillChunkTokens: e.prefill_chunk_tokens,
    batchMaxRows: e.batch_max_rows,
    workerNice: e.worker_nice,
    batchMaxContextTokens: e.batch_max_context_tokens,
    ...(e.intra_op_threads > 0 ? { intraOpNumThreads: e.intra_op_threads } : {}),
    applySpeechAdapter: e.apply_speech_adapter,
    kvCache: e.kv_cache,
    executionProvider: e.execution_provider,
    kvGrowthTokens: e.kv_growth_tokens,
    log: opts.log,
  });
}
