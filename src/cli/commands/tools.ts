import type { Command } from 'commander';
import { ALL_TOOLS } from '../../../tools/index.ts';
import { toolParametersJsonSchema, type ServerTool } from '../../agent/tool.ts';

export interface ToolJson {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  timeout_ms: number | null;
}

export function toolToJson(tool: ServerTool): ToolJson {
  return {
    name: tool.name,
    description: tool.description,
    parameters: toolParametersJsonSchema(tool),
    timeout_ms: tool.timeoutMs ?? null,
  };
}

function describeParameters(schema: Record<string, unknown>): string {
  const properties = (schema.properties ?? {}) as Record<string, { type?: string; description?: string }>;
  const required = new Set((schema.required ?? []) as string[]);
  const names = Object.entries(properties).map(
    ([name, p]) => `${name}${required.has(name) ? '' : '?'}: ${p.type ?? 'any'}`,
  );
  return names.length > 0 ? names.join(', ') : 'no parameters';
}

export function registerToolsCommand(program: Command): void {
  program
    .command('tools')
    .description('List the server tools agents can call, with their parameter schemas')
    .option('--json', 'print {"tools":[...]} with JSON-schema parameters')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ tools: ALL_TOOLS.map(toolToJson) }, null, 2)}\n`);
        return;
      }
      for (const tool of ALL_TOOLS) {
        process.stdout.write(
          `${tool.name}(${describeParameters(toolParametersJsonSchema(tool))})\n  ${tool.description}\n`,
        );
      }
    });
}
