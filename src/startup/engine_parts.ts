// The engine and the voice engine of `earshot serve`: opened at start (or a provisioner fetching a missing
// model), each with its release; composed into the server by main.ts.
import { existsSync } from 'node:fs';
import type { EarshotConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { type AutoPullSettings, ModelProvisioner, modelNeedsPull } from '../engine/model_provisioning.ts';
import { createConfiguredEngine } from '../engine/open_engine.ts';
import { resolveModelDir } from '../engine/phi4mm/model_location.ts';
import { RemoteEngine } from '../engine/remote/remote_engine.ts';
import { EarshotError, isEarshotError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';
import { openVoiceEngine } from '../tts/kokoro/startup.ts';
import type { VoiceEngine } from '../tts/select.ts';
import type { EngineAvailability } from './connections.ts';

/** The options of startServer these parts read (see StartServerOptions in main.ts). */
export interface EnginePartOptions {
  engine?: SpeechEngine | null;
  env?: NodeJS.ProcessEnv;
  autoPull?: AutoPullSettings;
  voiceEngine?: VoiceEngine;
}

const MODEL_FIX =
  'run `earshot model pull`, or start the server with --model DIR (or set EARSHOT_MODEL / model.dir in the config)';

/** Loads the Phi-4 engine in its worker; a missing or broken model is reported, never fatal (docs/architecture.md). */
/** The configured engine: remote, or the local model loaded (or why there is none, with the fix). */
export async function openEngine(config: EarshotConfig, log: Logger): Promise<EngineAvailability> {
  // engine.remote.url: the model runs elsewhere (vLLM or another Earshot), nothing is loaded here.
  if (config.engine.remote.url)
    return { engine: new RemoteEngine(config.engine.remote, config.engine.context_budget_tokens) };
  const modelDir = resolveModelDir({ configDir: config.model.dir });
  if (!existsSync(modelDir)) {
    return {
      engine: null,
      unavailable: new EarshotError('E_MODEL_MISSING', `No Phi-4-multimodal model at ${modelDir}: ${MODEL_FIX}.`),
    };
  }
  const host = createConfiguredEngine(config, { modelDir, log });
  try {
    await host.ready;
    return { engine: host };
  } catch (err) {
    await host.close().catch(() => {});
    const code = isEarshotError(err) ? err.code : 'E_MODEL_INVALID';
    const message = err instanceof Error ? err.message : String(err);
    return {
      engine: null,
      unavailable: new EarshotError(
        code,
        `The model at ${modelDir} could not be loaded (${message}); check it with \`earshot model check\`, or ${MODEL_FIX}.`,
      ),
    };
  }
}

/** The voice engine of spoken answers; Kokoro is fetched on first use only where the model is (`earshot serve`). */
export async function openVoice(
  config: EarshotConfig,
  log: Logger,
  metrics: EarshotMetrics,
  options: EnginePartOptions,
): Promise<VoiceEngine> {
  const voiceEngine =
    options.voiceEngine ??
    (await openVoiceEngine(config.tts, {
      log,
      metrics,
      env: options.env,
      autoPull: options.autoPull && { endpoint: options.autoPull.endpoint, fetchImpl: options.autoPull.fetchImpl },
    }));
  if (voiceEngine.synthesizer)
    log.info({ voiceEngine: voiceEngine.status.engine, reason: voiceEngine.status.reason }, 'voice engine ready');
  else log.warn({ code: 'E_TTS_UNAVAILABLE' }, voiceEngine.status.reason ?? 'no voice engine');
  return voiceEngine;
}

/** The engine (or why there is none) and the provisioner fetching a missing model; released last. */
export async function provideEngine(config: EarshotConfig, log: Logger, options: EnginePartOptions) {
  const provisioner = createProvisioner(config, log, options);
  // Mutable: a model fetched on first start replaces the placeholder; sessions opened later get the engine.
  const availability: EngineAvailability =
    options.engine !== undefined
      ? {
          engine: options.engine,
          ...(options.engine
            ? {}
            : { unavailable: new EarshotError('E_MODEL_MISSING', `No model is loaded: ${MODEL_FIX}.`) }),
        }
      : provisioner !== null
        ? { engine: null, unavailable: provisioner.whileMissing }
        : await openEngine(config, log);
  if (availability.unavailable && provisioner === null)
    log.warn({ code: availability.unavailable.code }, availability.unavailable.message);
  const ownsEngine = options.engine === undefined;
  const release = async () => {
    provisioner?.stop();
    if (ownsEngine) await availability.engine?.close();
  };
  return { availability, provisioner, release };
}

/** A provisioner when `earshot serve` starts without a usable model and may fetch it; else null. */
function createProvisioner(
  config: EarshotConfig,
  log: Logger,
  options: EnginePartOptions,
): ModelProvisioner<SpeechEngine> | null {
  if (options.engine !== undefined || options.autoPull === undefined || !config.model.auto_pull) return null;
  const dir = resolveModelDir({ configDir: config.model.dir });
  if (!modelNeedsPull(dir)) return null;
  const settings = { ...options.autoPull, endpoint: options.autoPull.endpoint ?? config.model.hub_endpoint };
  return new ModelProvisioner<SpeechEngine>({ dir, settings, log, load: () => openEngine(config, log) });
}
