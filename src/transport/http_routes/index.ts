import type { EarshotMetrics } from '../../observability/metrics.ts';
import type { TranscriptStore } from '../../store/transcript_store.ts';
import type { Authenticator } from '../auth.ts';
import type { HttpRoute } from '../ws_server.ts';
import { createAgentsRoute, type AgentSummary } from './agents_route.ts';
import { createClientSecretsRoute, type RequestedSession } from './client_secrets_route.ts';
import { createMetricsRoute } from './metrics_route.ts';
import { createReadyzRoute, type ReadinessReport } from './readyz_route.ts';
import { createSessionRoutes } from './session_routes.ts';

export { createAgentsRoute, type AgentSummary } from './agents_route.ts';
export { createClientSecretsRoute, CLIENT_SECRETS_PATH, type RequestedSession } from './client_secrets_route.ts';
export { createMetricsRoute } from './metrics_route.ts';
export { createReadyzRoute, type ReadinessReport } from './readyz_route.ts';
export { createSessionRoutes, transcriptCues, TRANSCRIPT_FORMATS, type TranscriptFormat } from './session_routes.ts';

export interface ServerRoutesOptions {
  auth: Authenticator;
  metrics: EarshotMetrics;
  /** GET /readyz: a boolean, or a report with the reason (see ReadinessReport). */
  isReady: () => boolean | ReadinessReport;
  /** Without a store the /v1/sessions routes are not mounted (404). */
  store?: TranscriptStore;
  describeSession?: (requested: RequestedSession) => unknown;
  /** Largest client_secrets body (a WebSocket event's bound, server.max_message_bytes). */
  maxClientSecretsBodyBytes?: number;
  publicMetrics?: boolean;
  /** The agent catalogue for GET /v1/agents (not mounted without it). */
  listAgents?: () => AgentSummary[];
}

/** The server's own HTTP routes (health, metrics, sessions, agents, client secrets) in one list, for RealtimeServerOptions.routes. */
export function createServerRoutes(opts: ServerRoutesOptions): HttpRoute[] {
  const routes: HttpRoute[] = [
    createReadyzRoute(opts.isReady),
    createMetricsRoute({ metrics: opts.metrics, auth: opts.auth, public: opts.publicMetrics }),
    createClientSecretsRoute({
      auth: opts.auth,
      describeSession: opts.describeSession,
      maxBodyBytes: opts.maxClientSecretsBodyBytes,
    }),
  ];
  if (opts.store) routes.push(createSessionRoutes({ store: opts.store, auth: opts.auth }));
  if (opts.listAgents) routes.push(createAgentsRoute({ auth: opts.auth, listAgents: opts.listAgents }));
  return routes;
}
