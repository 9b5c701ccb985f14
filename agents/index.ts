// Every agent, in one explicit list. The server default is config agent.default ('assistant').
import { AgentCatalogue, type AgentDefinition } from '../src/agent/agent.ts';
import { withAgentModules } from '../src/agent/agent_modules.ts';
import { assistant } from './assistant.ts';
import { callCenter } from './call_center.ts';
import { captioner } from './captioner.ts';
import { tripPlanner } from './trip_planner.ts';

export const AGENTS: readonly AgentDefinition[] = [assistant, tripPlanner, captioner, callCenter];

export function createAgentCatalogue(defaultName = 'assistant'): AgentCatalogue {
  return new AgentCatalogue(AGENTS, defaultName);
}

/** The built-in agents plus those of the user's modules (config agent.modules, `--agents FILE`). */
export async function loadAgentCatalogue(
  defaultName = 'assistant',
  modulePaths: readonly string[] = [],
): Promise<AgentCatalogue> {
  return new AgentCatalogue(await withAgentModules(AGENTS, modulePaths), defaultName);
}
