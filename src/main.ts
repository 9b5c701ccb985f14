import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createAgentCatalogue } from '../agents/index.ts';
import type { AgentCatalogue } from './agent/agent.ts';
import type { AgentRuntimeSettings } from './agent/agent_runtime.ts';
import { createAgentServices } from './agent/create_services.ts';
import type { AgentServices } from './agent/services.ts';
import type { EarshotConfig } from './config/schema.ts';
import type { SpeechEngine } from './engine/engine_session.ts';
import { resolveModelDir } from './engine/model_location.ts';
import { createConfiguredEngine } from './engine/open_engine.ts';
import { EarshotError, isEarshotError } from './errors.ts';
import type { Logger } from './observability/logger.ts';
import { encodeServerEvent } from './protocol/codec.ts';
import { RealtimeConnection } from './session/realtime_connection.ts';
import { RealtimeServer } from './transport/ws_server.ts';
import { getSharedSileroModel } from './vad/silero_model.ts';
import { VadBatcher } from './vad/vad_batcher.ts';

export interface RunningServer {
  address: AddressInfo;
  url: string;
  server: RealtimeServer;
  /** The engine serving the agents, or null when the model is missing (see engineUnavailable). */
  engine: SpeechEngine | null;
  engineUnavailable?: EarshotError;
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** An engine to use instead of loading the model (tests: a scripted engine; null: no model). */
  engine?: SpeechEngine | null;
  services?: AgentServices;
  catalogue?: AgentCatalogue;
}

export interface EngineAvailability {
  engine: SpeechEngine | null;
  unavailable?: EarshotError;
}

const MODEL_FIX = 'run `earshot model pull`, or start the server with --model DIR (or set EARSHOT_MODEL / model.dir in the config)';

/** Loads the Phi-4 engine in its worker; a missing or broken model is reported, never fatal (design.md 9). */
export async function openEngine(config: EarshotConfig, log: Logger): Promise<EngineAvailability> {
  const modelDir = resolveModelDir({ configDir: config.model.dir });
  if (!existsSync(modelDir)) {
    return { engine: null, unavailable: new EarshotError('E_MODEL_MISSING', `No Phi-4-multimodal model at ${modelDir}: ${MODEL_FIX}.`) };
  }
  const host = createConfiguredEngine(config, { modelDir, log });
  try {
    await host.ready;
    return { engine: host };
  } catch (err) {
    await host.close().catch(() => {});
    const code = isEarshotError(err) ? err.code : 'E_MODEL_INVALID';
    const message = err instanceof Error ? err.message : String(err);
    return { engine: null, unavailable: new EarshotError(code, `The model at ${modelDir} could not be loaded (${message}); check it with \`earshot model check\`, or ${MODEL_FIX}.`) };
  }
}

export function agentRuntimeSettings(config: EarshotConfig): AgentRuntimeSettings {
  const a = config.agent;
  return {
    maxToolSteps: a.max_tool_steps,
    toolTimeoutMs: a.tool_timeout_ms,
    interruptMinSpeechMs: a.interrupt_min_speech_ms,
    captionMaxTokens: a.caption_max_tokens,
    contextBudgetTokens: config.engine.context_budget_tokens,
    defaultMaxOutputTokens: a.max_output_tokens,
  };
}

/** Composition root of `earshot serve`: one Silero model, VAD batcher and engine shared by every connection. */
export async function startServer(config: EarshotConfig, log: Logger, options: StartServerOptions = {}): Promise<RunningServer> {
  const catalogue = options.catalogue ?? createAgentCatalogue(config.agent.default);
  const model = await getSharedSileroModel();
  const batcher = new VadBatcher(model, { maxBatchStreams: config.vad.batch_max_streams });
  const availability: EngineAvailability = options.engine !== undefined
    ? { engine: options.engine, ...(options.engine ? {} : { unavailable: new EarshotError('E_MODEL_MISSING', `No model is loaded: ${MODEL_FIX}.`) }) }
    : await openEngine(config, log);
  if (availability.unavailable) log.warn({ code: availability.unavailable.code }, availability.unavailable.message);
  const ownsEngine = options.engine === undefined;
  const services = options.services ?? createAgentServices(config.agent);
  const settings = agentRuntimeSettings(config);
  const server = new RealtimeServer({
    config: config.server,
    log,
    openSocket: (peer, info) => {
      const intent = info.url.searchParams.get('intent');
      const connection = new RealtimeConnection({
        config,
        log,
        sessionType: intent === 'transcription' ? 'transcription' : 'realtime',
        openVadStream: () => batcher.openStream(),
        transport: {
          send: (event) => peer.sendText(encodeServerEvent(event)),
          pauseInput: () => peer.pauseInput(),
          resumeInput: () => peer.resumeInput(),
        },
        agent: {
          engine: availability.engine,
          engineUnavailable: availability.unavailable,
          catalogue,
          agentName: info.url.searchParams.get('agent'),
          settings,
          services,
        },
      });
      connection.start();
      return connection;
    },
  });
  const address = await server.listen();
  const url = `${server.scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/v1/realtime`;
  log.info({ url }, 'earshot listening');
  return {
    address,
    url,
    server,
    engine: availability.engine,
    engineUnavailable: availability.unavailable,
    close: async () => {
      await server.close();
      if (ownsEngine) await availability.engine?.close();
      if (!options.services) services.close();
    },
  };
}
