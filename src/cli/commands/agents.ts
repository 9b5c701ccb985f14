import type { Command } from 'commander';
import { AGENTS } from '../../../agents/index.ts';
import { agentToJson } from '../../agent/agent_listing.ts';
import { withAgentModules } from '../../agent/agent_modules.ts';
import { reportCliError } from '../cli_config.ts';

export function registerAgentsCommand(program: Command): void {
  program
    .command('agents')
    .description('List the agents a connection can choose (?agent=NAME or session.agent)')
    .option('--json', 'print {"agents":[...]} as JSON')
    .option(
      '--agents <file>',
      'also load the agents of this module (repeatable)',
      (file: string, all: string[]) => [...all, file],
      [] as string[],
    )
    .action(async (opts: { json?: boolean; agents: string[] }) => {
      let agents: Awaited<ReturnType<typeof withAgentModules>>;
      try {
        agents = await withAgentModules(AGENTS, opts.agents);
      } catch (err) {
        reportCliError(err);
        return;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ agents: agents.map(agentToJson) }, null, 2)}\n`);
        return;
      }
      for (const agent of agents) {
        process.stdout.write(`${agent.name} (${agent.sessionType})\n  ${agent.description}\n`);
        process.stdout.write(
          `  tools: ${agent.tools.length > 0 ? agent.tools.map((t) => t.name).join(', ') : 'none'}\n`,
        );
      }
    });
}
