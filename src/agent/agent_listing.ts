import type { AgentDefinition } from './agent.ts';

/** An agent as `earshot agents --json` and `GET /v1/agents` show it. */
export interface AgentJson {
  name: string;
  description: string;
  session_type: string;
  tools: string[];
  max_output_tokens: number;
  summarize_on_end: boolean;
}

export function agentToJson(agent: AgentDefinition): AgentJson {
  return {
    name: agent.name,
    description: agent.description,
    session_type: agent.sessionType,
    tools: agent.tools.map((t) => t.name),
    max_output_tokens: agent.generation.maxOutputTokens,
    summarize_on_end: agent.summarizeOnEnd ?? false,
  };
}
