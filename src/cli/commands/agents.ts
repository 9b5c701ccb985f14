import type { Command } from 'commander';
import { AGENTS } from '../../../agents/index.ts';
import type { AgentDefinition } from '../../agent/agent.ts';

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

export function registerAgentsCommand(program: Command): void {
  program
    .command('agents')
    .description('List the agents a connection can choose (?agent=NAME or session.agent)')
    .option('--json', 'print {"agents":[...]} as JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ agents: AGENTS.map(agentToJson) }, null, 2)}\n`);
        return;
      }
      for (const agent of AGENTS) {
        process.stdout.write(`${agent.name} (${agent.sessionType})\n  ${agent.description}\n`);
        process.stdout.write(`  tools: ${agent.tools.length > 0 ? agent.tools.map((t) => t.name).join(', ') : 'none'}\n`);
      }
    });
}
