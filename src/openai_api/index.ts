// The OpenAI-compatible HTTP API (docs/http_api.md), mounted on the Realtime server's port.
import type { HttpRoute } from '../transport/ws_server.ts';
import type { OpenAiApiDeps } from './api_context.ts';
import { createAudioRoutes } from './audio_routes.ts';
import { createModelsRoute } from './models_route.ts';

export type { OpenAiApiDeps } from './api_context.ts';

export function createOpenAiRoutes(deps: OpenAiApiDeps): HttpRoute[] {
  if (!deps.config.openai_api.enabled) return [];
  return [createModelsRoute(deps), createAudioRoutes(deps)];
}
