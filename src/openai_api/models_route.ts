// GET /v1/models and GET /v1/models/{id}: the one model this server serves, under its configured id.
import { EarshotError } from '../errors.ts';
import { methodNotAllowed, requireIdentity, withErrors } from '../transport/http_routes/http_util.ts';
import { sendJson, type HttpRoute } from '../transport/ws_server.ts';
import type { OpenAiApiDeps } from './api_context.ts';

const MODELS_PATH = /^\/v1\/models(?:\/([^/]{1,256}))?\/?$/;
/** A fixed creation time: the id names a model family, not a file, and must not change between restarts. */
const CREATED_S = 1_740_787_200; // 2025-03-01, Phi-4-multimodal-instruct's release

export function createModelsRoute(deps: OpenAiApiDeps): HttpRoute {
  return async (req, res, url) => {
    const match = MODELS_PATH.exec(url.pathname);
    if (!match) return false;
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET');
      return true;
    }
    if (!requireIdentity(deps.auth, req, res)) return true;
    const id = deps.config.openai_api.model_id;
    const model = { id, object: 'model', created: CREATED_S, owned_by: 'earshot' };
    await withErrors(res, () => {
      if (match[1] === undefined) return sendJson(res, 200, { object: 'list', data: [model] });
      if (decodeURIComponent(match[1]) !== id)
        throw new EarshotError('E_NOT_FOUND', `No model ${match[1].slice(0, 64)}; this server serves ${id}.`, {
          param: 'model',
        });
      sendJson(res, 200, model);
    });
    return true;
  };
}
