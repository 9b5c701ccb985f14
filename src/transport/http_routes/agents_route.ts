import type { Authenticator } from '../auth.ts';
import { sendJson, type HttpRoute } from '../ws_server.ts';
import { methodNotAllowed, requireIdentity } from './http_util.ts';

/** What GET /v1/agents lists for each agent (the agent layer maps its definitions to this). */
export interface AgentSummary {
  name: string;
  description: string;
  tools: string[];
}

/**
 * GET /v1/agents: the agents a connection can pick with ?agent=NAME, `{ "data": [ {name, description,
 * tools, ...} ] }`. Authenticated like every /v1 route; ephemeral keys may read it (a browser holding one
 * picks its agent from this list).
 */
export function createAgentsRoute(opts: { auth: Authenticator; listAgents: () => AgentSummary[] }): HttpRoute {
  return (req, res, url) => {
    if (url.pathname !== '/v1/agents' && url.pathname !== '/v1/agents/') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      methodNotAllowed(res, 'GET');
      return true;
    }
    if (!requireIdentity(opts.auth, req, res, { allowEphemeral: true })) return true;
    sendJson(res, 200, { object: 'list', data: opts.listAgents() });
    return true;
  };
}
