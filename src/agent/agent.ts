// An agent is data: instructions, server tools, session kind and generation settings (agents/ holds the
// definitions; this file only checks them). Chosen per connection by ?agent=NAME, the `agent` field of
// session.update (Earshot extension) or the server default.
import type { SessionType } from './session_view.ts';
import type { ServerTool } from './tool.ts';

export interface GenerationSettings {
  /** Answer length limit in tokens when the session says 'inf'. */
  maxOutputTokens: number;
  /** Greedy decoding when absent (docs/model.md, "Tokens and prompts"). */
  temperature?: number;
  seed?: number;
}

export interface AgentDefinition {
  name: string;
  description: string;
  instructions: string;
  tools: readonly ServerTool[];
  sessionType: SessionType;
  generation: GenerationSettings;
  /** When the connection ends, summarise the call from its transcripts and keep the summary. */
  summarizeOnEnd?: boolean;
}

export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

export function defineAgent(agent: AgentDefinition): AgentDefinition {
  if (!AGENT_NAME_PATTERN.test(agent.name))
    throw new Error(`agent name ${JSON.stringify(agent.name)} must be kebab-case`);
  const names = new Set<string>();
  for (const tool of agent.tools) {
    if (names.has(tool.name)) throw new Error(`agent ${agent.name} lists tool ${tool.name} twice`);
    names.add(tool.name);
  }
  if (agent.sessionType === 'transcription' && agent.tools.length > 0)
    throw new Error(`agent ${agent.name}: a transcription agent never answers, so it cannot have tools`);
  return agent;
}

export class AgentCatalogue {
  private readonly byName: Map<string, AgentDefinition>;

  constructor(
    agents: readonly AgentDefinition[],
    readonly defaultName: string,
  ) {
    this.byName = new Map(agents.map((a) => [a.name, a]));
    if (!this.byName.has(defaultName)) throw new Error(`default agent ${defaultName} is not in the catalogue`);
  }

  get(name: string): AgentDefinition | undefined {
    return this.byName.get(name);
  }

  get default(): AgentDefinition {
    return this.byName.get(this.defaultName)!;
  }

  list(): AgentDefinition[] {
    return [...this.byName.values()];
  }
}
