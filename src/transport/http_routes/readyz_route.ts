import type { HttpRoute } from '../ws_server.ts';
import { sendJson } from '../ws_server.ts';

/**
 * GET /readyz: 200 once `isReady()` says so (model loaded, store open, not draining), else 503. Not
 * authenticated: orchestrator probes carry no keys, and the answer reveals only ready or not.
 */
export function createReadyzRoute(isReady: () => boolean): HttpRoute {
  return (req, res, url) => {
    if (url.pathname !== '/readyz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const ready = isReady();
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' });
    return true;
  };
}
