import type { HttpRoute } from '../ws_server.ts';
import { sendJson } from '../ws_server.ts';

/** Why the server is (not) ready: `status` names the state, other fields detail it (e.g. `percent`). */
export interface ReadinessReport {
  ready: boolean;
  status: string;
  [detail: string]: unknown;
}

/**
 * GET /readyz: 200 `{"status":"ready"}` once ready (model loaded, not draining, not overloaded), else 503 with
 * the reason, e.g. `{"status":"downloading","percent":42,...}`. Not authenticated: orchestrator probes carry
 * no keys, and the answer reveals only the server's state. A bare boolean gives `ready` / `not_ready`.
 */
export function createReadyzRoute(readiness: () => boolean | ReadinessReport): HttpRoute {
  return (req, res, url) => {
    if (url.pathname !== '/readyz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const report = readiness();
    if (typeof report === 'boolean') {
      sendJson(res, report ? 200 : 503, { status: report ? 'ready' : 'not_ready' });
    } else {
      const { ready, ...body } = report;
      sendJson(res, ready ? 200 : 503, body);
    }
    return true;
  };
}
