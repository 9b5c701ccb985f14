// Every agent, in one explicit list. The server default is config agent.default ('assistant').
import { AgentCatalogue, type AgentDefinition } from '../src/agent/agent.ts';
import { assistant } from './assistant.ts';
import { callCenter } from './call_center.ts';
import { captioner } from './captioner.ts';
import { tripPlanner } from './trip_planner.ts';

export const AGENTS: readonly AgentDefinition[] = [assistant, tripPlanner, captioner, callCenter];

export function createAgentCatalogue(defaultName = 'assistant'): AgentCatalogue {
  return new AgentCatalogue(AGENTS, defaultName);
}
