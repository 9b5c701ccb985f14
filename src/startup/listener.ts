// The listener of `earshot serve`: its HTTP routes, and WebSocket upgrades that become sessions (or
// sidebands of a WebRTC call).
import { agentToJson } from '../agent/agent_listing.ts';
import type { AgentCatalogue } from '../agent/agent.ts';
import type { EarshotConfig } from '../config/schema.ts';
import type { Logger } from '../observability/logger.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';
import type { OpenAiApi } from '../openai_api/index.ts';
import type { LiveSessions } from '../session/live_sessions.ts';
import { describePreset } from '../session/preset.ts';
import { dialectOf, type Dialect } from '../session/session_support.ts';
import type { TranscriptStore } from '../store/transcript_store.ts';
import type { AdmissionController } from '../transport/admission.ts';
import { ANONYMOUS_KEY_ID, type Authenticator } from '../transport/auth.ts';
import type { CallSidebands } from '../transport/call_sidebands.ts';
import { createHostCheck } from '../transport/host_allowlist.ts';
import { createServerRoutes, type ReadinessReport } from '../transport/http_routes/index.ts';
import { createStaticRoute } from '../transport/static_route.ts';
import { createUpgradeGate, type GateContext } from '../transport/upgrade_gate.ts';
import { type HttpRoute, RealtimeServer } from '../transport/ws_server.ts';
import type { BuildConnection, ConnectionSetup } from './connections.ts';

export interface HttpRouteParts {
  config: EarshotConfig;
  log: Logger;
  auth: Authenticator;
  metrics: EarshotMetrics;
  store: TranscriptStore;
  catalogue: AgentCatalogue;
  readiness: () => ReadinessReport;
  webrtc: HttpRoute;
  openAiApi: OpenAiApi;
}

export function httpRoutes(p: HttpRouteParts): HttpRoute[] {
  const { config, catalogue } = p;
  return [
    ...createServerRoutes({
      auth: p.auth,
      metrics: p.metrics,
      store: p.store,
      isReady: p.readiness,
      publicMetrics: config.server.metrics_public,
      listAgents: () => catalogue.list().map(agentToJson),
      // A preset is checked exactly as the connection will apply it (never accepted, then dropped).
      describeSession: (requested) => describePreset(config, requested, catalogue),
      maxClientSecretsBodyBytes: config.server.max_message_bytes,
    }),
    p.webrtc,
    // OpenAI's HTTP APIs (models, audio transcriptions, chat completions) on the same port, keys and admission.
    ...p.openAiApi.routes,
    // The browser client at `/`, from its build folder.
    createStaticRoute({ log: p.log }),
  ];
}

export interface RealtimeServerParts {
  config: EarshotConfig;
  log: Logger;
  auth: Authenticator;
  admission: AdmissionController;
  metrics: EarshotMetrics;
  routes: HttpRoute[];
  sessions: LiveSessions;
  sidebands: CallSidebands<Dialect>;
  buildConnection: BuildConnection;
}

/** The listener: HTTP routes, and WebSocket upgrades that become sessions (or sidebands of a call). */
export function realtimeServer(p: RealtimeServerParts): RealtimeServer {
  return new RealtimeServer({
    config: p.config.server,
    log: p.log,
    routes: p.routes,
    checkHost: createHostCheck({ allowedHosts: p.config.server.allowed_hosts, authEnabled: p.auth.enabled }),
    gateUpgrade: createUpgradeGate(p.auth, p.admission, p.metrics),
    onUpgradeRefused: () => p.metrics.sessionsRejected.inc({ reason: 'max_sessions' }),
    openSocket: (peer, info) => {
      const identity = (info.context as GateContext | undefined)?.identity ?? {
        kind: 'anonymous',
        keyId: ANONYMOUS_KEY_ID,
      };
      const callId = info.url.searchParams.get('call_id');
      // A sideband on a WebRTC call: events only, on the call's own session; admitted as a session itself.
      if (callId !== null) return p.sidebands.open(peer, identity, callId, dialectOf(info));
      const setup: ConnectionSetup = {
        intent: info.url.searchParams.get('intent'),
        agentName: info.url.searchParams.get('agent'),
        model: info.url.searchParams.get('model'),
        dialect: dialectOf(info),
        identity,
        peerPause: () => peer.pauseInput(),
        peerResume: () => peer.resumeInput(),
      };
      return p.sessions.open(peer, identity, (hooks) => p.buildConnection(setup, hooks), setup.dialect);
    },
  });
}
