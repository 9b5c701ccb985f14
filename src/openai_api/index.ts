// The OpenAI-compatible HTTP API (docs/http_api.md), mounted on the Realtime server's port.
import type { HttpRoute } from '../transport/ws_server.ts';
import type { OpenAiApiDeps } from './api_context.ts';
import { createApiMetrics } from './api_metrics.ts';
import { createAudioRoutes } from './audio_routes.ts';
import { createChatRoute } from './chat_route.ts';
import { createModelsRoute } from './models_route.ts';
import { PrefixCache } from './prefix_cache.ts';
import { createSpeechRoute } from './speech_route.ts';

export type { OpenAiApiDeps } from './api_context.ts';

export interface OpenAiApi {
  routes: HttpRoute[];
  /** Chat conversations kept for prefix reuse (disposed by close()). */
  prefixCache: PrefixCache;
  close(): Promise<void>;
}

export function createOpenAiApi(deps: OpenAiApiDeps): OpenAiApi {
  const c = deps.config.openai_api;
  const prefixCache = new PrefixCache({
    maxBytes: c.prefix_cache_max_bytes,
    maxEntries: c.prefix_cache_max_entries,
    ttlMs: c.prefix_cache_ttl_ms,
  });
  const withMetrics: OpenAiApiDeps = { ...deps, apiMetrics: createApiMetrics(deps.metrics, prefixCache) };
  const routes = c.enabled
    ? [
        createModelsRoute(withMetrics),
        createAudioRoutes(withMetrics),
        createChatRoute(withMetrics, prefixCache),
        createSpeechRoute(withMetrics),
      ]
    : [];
  return { routes, prefixCache, close: () => prefixCache.clear() };
}
