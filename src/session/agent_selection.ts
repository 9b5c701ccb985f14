// Which agent a connection serves: `?agent=` at connect (an unknown name falls back to the catalogue's
// default and is reported after session.created), and session.update's `agent` field later.
import type { AgentDefinition } from '../agent/agent.ts';
import { EarshotError } from '../errors.ts';
import type { AgentConnectionOptions, ConnectionOptions } from './connection_types.ts';
import type { SessionType } from './session_state.ts';

export interface AgentSelection {
  agent: AgentDefinition | undefined;
  /** The requested name when it named no agent (the default is served instead). */
  unknownAgent: string | null;
  sessionType: SessionType;
}

export function selectAgent(opts: ConnectionOptions): AgentSelection {
  const agentOpts = opts.agent;
  let agent: AgentDefinition | undefined;
  let unknownAgent: string | null = null;
  if (agentOpts) {
    const requested = agentOpts.agentName ?? null;
    agent = requested ? agentOpts.catalogue.get(requested) : agentOpts.catalogue.default;
    if (!agent) {
      unknownAgent = requested;
      agent = agentOpts.catalogue.default;
    }
  }
  // ?intent=transcription wins; otherwise a captioning agent makes a transcription session.
  const sessionType =
    opts.sessionType === 'transcription' || (requestedAgentIsExplicit(opts) && agent?.sessionType === 'transcription')
      ? 'transcription'
      : (opts.sessionType ?? 'realtime');
  return { agent, unknownAgent, sessionType };
}

export function knownAgentNames(agentOpts: Pick<AgentConnectionOptions, 'catalogue'> | undefined): string | undefined {
  return agentOpts?.catalogue
    .list()
    .map((a) => a.name)
    .join(', ');
}

/**
 * The agent named by session.update's `agent` field (Earshot extension), checked before anything applies;
 * null when the field is absent or names the current agent.
 */
export function resolveAgentUpdate(
  session: Record<string, unknown>,
  agentOpts: Pick<AgentConnectionOptions, 'catalogue'> | undefined,
  current: { agentName: string | null; type: SessionType },
): AgentDefinition | null {
  const name = session.agent;
  if (typeof name !== 'string' || !agentOpts || name === current.agentName) return null;
  const agent = agentOpts.catalogue.get(name);
  if (!agent) {
    throw new EarshotError(
      'E_AGENT_UNKNOWN',
      `Unknown agent ${JSON.stringify(name)}; known agents: ${knownAgentNames(agentOpts)}.`,
      { param: 'session.agent' },
    );
  }
  if (agent.sessionType !== current.type) {
    throw new EarshotError(
      'E_UNSUPPORTED_FEATURE',
      `Agent ${name} serves ${agent.sessionType} sessions and this is a ${current.type} session; open a new connection with ?agent=${name}.`,
      { param: 'session.agent' },
    );
  }
  return agent;
}

function requestedAgentIsExplicit(opts: ConnectionOptions): boolean {
  return typeof opts.agent?.agentName === 'string' && opts.agent.agentName !== '';
}
