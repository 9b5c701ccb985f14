import type { EarshotMetrics } from '../../observability/metrics.ts';
import type { Authenticator } from '../auth.ts';
import type { HttpRoute } from '../ws_server.ts';
import { methodNotAllowed, requireIdentity, sendText } from './http_util.ts';

/**
 * GET /metrics in Prometheus text format. Authenticated like the rest of the API when keys are configured
 * (Prometheus sends `authorization: { credentials: <key> }` as a Bearer header); `public: true` exposes it
 * without a key, for scrapers on a private network.
 */
export function createMetricsRoute(opts: {
  metrics: EarshotMetrics;
  auth: Authenticator;
  public?: boolean;
}): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname !== '/metrics') return false;
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET');
      return true;
    }
    if (!opts.public && !requireIdentity(opts.auth, req, res)) return true;
    sendText(res, 200, opts.metrics.registry.contentType, await opts.metrics.registry.metrics());
    return true;
  };
}
