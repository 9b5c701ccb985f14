import type { AddressInfo } from 'node:net';
import { loadAgentCatalogue } from '../agents/index.ts';
import type { AgentCatalogue } from './agent/agent.ts';
import type { AgentRuntimeSettings } from './agent/agent_runtime.ts';
import { createAgentServices } from './agent/create_services.ts';
import type { AgentServices } from './agent/services.ts';
import type { EarshotConfig } from './config/schema.ts';
import type { SpeechEngine } from './engine/engine_session.ts';
import { modelReadiness, type AutoPullSettings } from './engine/model_provisioning.ts';
import type { EarshotError } from './errors.ts';
import { EngineStatsPoller } from './observability/engine_stats.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, type EarshotMetrics } from './observability/metrics.ts';
import { startRetention } from './store/retention.ts';
import type { TranscriptStore } from './store/transcript_store.ts';
import { AdmissionController } from './transport/admission.ts';
import { assertSafeToServe, Authenticator } from './transport/auth.ts';
import type { ReadinessReport } from './transport/http_routes/index.ts';
import type { Dialect } from './session/session_support.ts';
import { CallSidebands } from './transport/call_sidebands.ts';
import { LiveSessions } from './session/live_sessions.ts';
import type { RealtimeServer } from './transport/ws_server.ts';
import { gcMode } from './observability/gc_mode.ts';
import { createOpenAiApi, type OpenAiApi } from './openai_api/index.ts';
import type { VoiceEngine } from './tts/select.ts';
import type { WebRtcCallsRoute } from './transport/webrtc/calls_route.ts';
import { callsRoute, connectionFactory, type EngineAvailability } from './startup/connections.ts';
import { openEngine, openVoice, provideEngine } from './startup/engine_parts.ts';
import { httpRoutes, realtimeServer } from './startup/listener.ts';
import { drainSessions, openStore, openVadBatcher, watchCapacity, watchLoad } from './startup/server_parts.ts';
import { StartupStack, type StartupHooks } from './startup/startup_stack.ts';

export interface RunningServer {
  address: AddressInfo;
  url: string;
  /** http(s)://host:port, for the HTTP API (/v1/sessions, /metrics, /readyz...). */
  httpUrl: string;
  server: RealtimeServer;
  /** The engine serving the agents, or null when the model is missing (see engineUnavailable). */
  readonly engine: SpeechEngine | null;
  readonly engineUnavailable?: EarshotError;
  /** The voice engine of spoken answers (tts.engine), or why there is none; updated in place when Kokoro arrives after a first-use fetch. */
  voiceEngine: VoiceEngine;
  auth: Authenticator;
  admission: AdmissionController;
  metrics: EarshotMetrics;
  /** The transcript store (':memory:' unless store.path is set). */
  store: TranscriptStore;
  sessions: LiveSessions;
  /** The OpenAI-compatible HTTP API's state (the chat prefix cache). */
  openAiApi: OpenAiApi;
  /** The WebRTC calls (POST /v1/realtime/calls): live calls by id, for diagnostics and benchmarks. */
  webrtcCalls: WebRtcCallsRoute;
  /** True once the model is loaded and while the server admits sessions (GET /readyz). */
  isReady(): boolean;
  /** What GET /readyz answers: `ready`, or why not (`downloading` with `percent`, `loading`, `model_missing`...). */
  readiness(): ReadinessReport;
  /**
   * Graceful stop (SIGTERM): refuse new sessions, let running responses finish for up to graceMs
   * (server.shutdown_grace_ms), cancel what is left, close every connection with 1001, flush the store.
   */
  shutdown(opts?: { graceMs?: number }): Promise<void>;
  /** Immediate stop: shutdown with no grace. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** An engine to use instead of loading the model (tests: a scripted engine; null: no model). */
  engine?: SpeechEngine | null;
  /** Environment for EARSHOT_API_KEYS (default process.env). */
  env?: NodeJS.ProcessEnv;
  services?: AgentServices;
  catalogue?: AgentCatalogue;
  /**
   * Download a missing model in the background while serving, then load it (`earshot serve`, unless
   * model.auto_pull is false). Absent (tests, benchmarks, embedding code): never any network access.
   */
  autoPull?: AutoPullSettings;
  /** A voice engine to use instead of opening tts.engine (tests: noVoiceEngine()). */
  voiceEngine?: VoiceEngine;
  /** Tests: fail a start-up step and see which parts were released. */
  startupHooks?: StartupHooks;
}

export type { EngineAvailability };

export function agentRuntimeSettings(config: EarshotConfig): AgentRuntimeSettings {
  const a = config.agent;
  return {
    maxToolSteps: a.max_tool_steps,
    toolTimeoutMs: a.tool_timeout_ms,
    interruptMinSpeechMs: a.interrupt_min_speech_ms,
    captionMaxTokens: a.caption_max_tokens,
    contextBudgetTokens: config.engine.context_budget_tokens,
    defaultMaxOutputTokens: a.max_output_tokens,
    maxQueuedTurns: config.limits.max_queued_turns,
    maxPendingTextBytes: config.limits.max_pending_text_bytes,
  };
}

/** Composition root of `earshot serve`: one Silero model, VAD batcher and engine shared by every connection. */
export { openEngine };

export async function startServer(
  config: EarshotConfig,
  log: Logger,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const stack = new StartupStack(log, options.startupHooks);
  try {
    return await composeServer(config, log, options, stack);
  } catch (err) {
    // Whatever step failed, nothing started before it outlives the failed start.
    await stack.releaseAll();
    throw err;
  }
}

/** The parts every connection shares, started in order on the stack (each releases itself on a failed start). */
async function startSharedParts(config: EarshotConfig, log: Logger, options: StartServerOptions, stack: StartupStack) {
  const catalogue = await stack.step(
    'agents',
    async () => options.catalogue ?? (await loadAgentCatalogue(config.agent.default, config.agent.modules)),
  );
  const metrics = createMetrics();
  const { availability, provisioner } = await stack.step(
    'engine',
    () => provideEngine(config, log, options),
    (e) => e.release(),
  );
  const services = await stack.step(
    'services',
    () => options.services ?? createAgentServices(config.agent),
    (s) => {
      if (!options.services) s.close();
    },
  );
  const store = await stack.step(
    'store',
    () => openStore(config, log, metrics),
    (s) => s.close(),
  );
  await stack.step(
    'retention',
    () => startRetention(store, { retentionDays: config.store.retention_days, log }),
    (r) => r.stop(),
  );
  const batcher = await stack.step('vad', () => openVadBatcher(config, metrics));
  const pollEngineStats = (e: SpeechEngine | null) =>
    new EngineStatsPoller(e, metrics, { maxPendingRequests: config.engine.max_pending_requests, log }).start();
  // Replaced when a model fetched on first start is loaded.
  const engineStats = await stack.step(
    'engine_stats',
    () => ({ poller: pollEngineStats(availability.engine) }),
    (h) => h.poller.stop(),
  );
  const voiceEngine = await stack.step(
    'voice',
    () => openVoice(config, log, metrics, options),
    (v) => {
      if (!options.voiceEngine) return v.synthesizer?.close();
    },
  );
  return {
    catalogue,
    metrics,
    availability,
    provisioner,
    services,
    store,
    batcher,
    pollEngineStats,
    engineStats,
    voiceEngine,
  };
}

type SharedParts = Awaited<ReturnType<typeof startSharedParts>>;

/** GET /readyz: draining, overloaded, or the model's state; the voice engine is reported, never blocking. */
function readinessReport(parts: SharedParts, admission: AdmissionController, overloaded: () => boolean) {
  const { availability, provisioner, voiceEngine } = parts;
  return (): ReadinessReport => {
    if (admission.isDraining) return { ready: false, status: 'draining' };
    if (overloaded()) return { ready: false, status: 'overloaded' };
    const model = modelReadiness(
      availability.engine as { isReady?: boolean } | null,
      availability.unavailable,
      provisioner,
    );
    // Text answers work without a voice engine, so it never makes the server unready.
    const voice = {
      voice_engine: voiceEngine.status.engine,
      ...(voiceEngine.synthesizer ? {} : { voice_engine_unavailable: voiceEngine.status.publicReason }),
    };
    return { ready: model.status === 'ready', ...model, ...voice };
  };
}

/** Admission, sessions and every route, then the listener: what turns the shared parts into a server. */
async function startServing(
  config: EarshotConfig,
  log: Logger,
  auth: Authenticator,
  parts: SharedParts,
  stack: StartupStack,
) {
  const { metrics, availability, batcher, engineStats, voiceEngine, store, catalogue } = parts;
  let sessionsRef: LiveSessions | null = null;
  let admissionRef: AdmissionController | null = null;
  // The lag watches and the capacity estimate: a change of either tells admitted sessions at once.
  const { load, capacity } = await stack.step(
    'load_monitors',
    () => {
      const onChange = () => sessionsRef?.broadcastRateLimits();
      return {
        load: watchLoad(config, log, { batcher, engineWaitMs: () => engineStats.poller.stepWaitMs }, onChange),
        capacity: watchCapacity(
          config,
          log,
          { batcher, activeSessions: () => admissionRef?.activeSessions ?? 0 },
          onChange,
        ),
      };
    },
    (w) => {
      w.load.stop();
      w.capacity.stop();
    },
  );
  const admission = AdmissionController.fromConfig(config.limits, {
    metrics,
    isEngineSaturated: () => engineStats.poller.saturated,
    overload: () => load.overloadMessage(),
    capacity: capacity.estimate,
  });
  admissionRef = admission;
  const contextBudgetTokens = config.engine.context_budget_tokens;
  const sessions = new LiveSessions({
    admission,
    metrics,
    store,
    log,
    contextBudgetTokens,
    maxTextEventBytes: config.limits.max_text_event_bytes,
  });
  sessionsRef = sessions;
  const settings = agentRuntimeSettings(config);
  const buildConnection = connectionFactory({
    config,
    log,
    batcher,
    availability,
    voiceEngine,
    catalogue,
    settings,
    services: parts.services,
  });
  const readiness = readinessReport(parts, admission, () => load.overloaded());
  const openAiApi = await stack.step(
    'openai_api',
    () =>
      createOpenAiApi({
        config,
        log,
        auth,
        admission,
        metrics,
        engine: () => ({ engine: availability.engine, unavailable: availability.unavailable }),
        openVadStream: () => batcher.openStream(),
        voiceEngine,
      }),
    (api) => api.close(),
  );
  const sidebands = new CallSidebands<Dialect>({ admission, log });
  const webrtc = await stack.step(
    'webrtc',
    () => callsRoute({ config, log, auth, sessions, sidebands, buildConnection }),
    (route) => route.close(),
  );
  const routes = httpRoutes({ config, log, auth, metrics, store, catalogue, readiness, webrtc, openAiApi });
  const server = realtimeServer({
    config,
    log,
    auth,
    admission,
    metrics,
    routes,
    sessions,
    sidebands,
    buildConnection,
  });
  const address = await stack.step(
    'listen',
    () => server.listen(),
    () => server.close(1001, 'server shutting down'),
  );
  return { admission, sessions, readiness, openAiApi, webrtc, server, address };
}

/** A model fetched on first start replaces the placeholder engine; sessions opened afterwards use it. */
function adoptProvisionedModel(parts: SharedParts, log: Logger, stopping: () => boolean): void {
  const { provisioner, availability, engineStats } = parts;
  void provisioner
    ?.run()
    .then(async (outcome) => {
      if (stopping()) return void (await outcome.engine?.close());
      Object.assign(availability, outcome);
      if (outcome.engine === null)
        return void log.warn({ code: outcome.unavailable?.code }, outcome.unavailable?.message ?? 'no model');
      engineStats.poller.stop();
      engineStats.poller = parts.pollEngineStats(outcome.engine);
      log.info('model loaded: new sessions use it');
    })
    .catch((err: unknown) => log.error({ err: (err as Error).message }, 'model provisioning failed'));
}

async function composeServer(
  config: EarshotConfig,
  log: Logger,
  options: StartServerOptions,
  stack: StartupStack,
): Promise<RunningServer> {
  const auth = Authenticator.fromConfig(config.auth, options.env ?? process.env);
  // Before anything is loaded: an exposed server without keys is a configuration error, not a warning.
  assertSafeToServe({
    host: config.server.host,
    authEnabled: auth.enabled,
    allowUnauthenticatedNonLoopback: config.auth.allow_unauthenticated_non_loopback,
  });
  const parts = await startSharedParts(config, log, options, stack);
  const { admission, sessions, readiness, openAiApi, webrtc, server, address } = await startServing(
    config,
    log,
    auth,
    parts,
    stack,
  );
  const { availability, provisioner, store } = parts;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${server.scheme}://${host}:${address.port}/v1/realtime`;
  const httpUrl = `${server.scheme === 'wss' ? 'https' : 'http'}://${host}:${address.port}`;
  log.info(
    { url, auth: auth.enabled ? `${auth.keyCount} key(s)` : 'off (loopback only)', store: store.path, gc: gcMode() },
    'earshot listening',
  );

  let stopping: Promise<void> | null = null;
  adoptProvisionedModel(parts, log, () => stopping !== null);
  const shutdown = (graceMs: number): Promise<void> => {
    stopping ??= (async () => {
      provisioner?.stop();
      await drainSessions(admission, sessions, log, graceMs);
      // Calls hang up before the listener closes the sidebands; then every part, last started first
      // (the store closes before the engine, so transcripts are checkpointed whatever the engine does).
      await webrtc.close();
      await stack.releaseAll();
    })();
    return stopping;
  };
  return {
    address,
    url,
    httpUrl,
    server,
    get engine() {
      return availability.engine;
    },
    get engineUnavailable() {
      return availability.unavailable;
    },
    voiceEngine: parts.voiceEngine,
    auth,
    admission,
    metrics: parts.metrics,
    store,
    sessions,
    openAiApi,
    webrtcCalls: webrtc,
    isReady: () => readiness().ready,
    readiness,
    shutdown: (opts) => shutdown(opts?.graceMs ?? config.server.shutdown_grace_ms),
    close: () => shutdown(0),
  };
}
