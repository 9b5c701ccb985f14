import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AGENTS, createAgentCatalogue } from '../../../agents/index.ts';
import { defineAgent } from '../../../src/agent/agent.ts';
import { defineTool, toToolSpec } from '../../../src/agent/tool.ts';
import { registerAgentsCommand } from '../../../src/cli/commands/agents.ts';
import { registerToolsCommand } from '../../../src/cli/commands/tools.ts';
import { ALL_TOOLS } from '../../../tools/index.ts';

async function run(register: (p: Command) => void, argv: string[]): Promise<string> {
  const program = new Command('earshot').exitOverride();
  register(program);
  let out = '';
  const spy = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  try {
    await program.parseAsync(['node', 'earshot', ...argv]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('agents/', () => {
  it('every agent definition loads and lists its tools, which all exist in tools/', () => {
    expect(AGENTS.map((a) => a.name)).toEqual(['assistant', 'trip-planner', 'captioner', 'call-center']);
    const known = new Set(ALL_TOOLS.map((t) => t.name));
    for (const agent of AGENTS) for (const tool of agent.tools) expect(known).toContain(tool.name);
    const catalogue = createAgentCatalogue();
    expect(catalogue.default.name).toBe('assistant');
    expect(catalogue.get('captioner')?.sessionType).toBe('transcription');
    expect(catalogue.get('trip-planner')?.tools.map((t) => t.name)).toContain('itinerary_add');
    expect(catalogue.get('call-center')?.summarizeOnEnd).toBe(true);
    expect(() => createAgentCatalogue('nope')).toThrow(/not in the catalogue/);
  });

  it('defineAgent / defineTool refuse bad definitions', () => {
    const tool = defineTool({ name: 'ok_tool', description: 'd', parameters: z.object({}), execute: () => 1 });
    expect(() =>
      defineTool({ name: 'Bad Name', description: 'd', parameters: z.object({}), execute: () => 1 }),
    ).toThrow(/snake_case/);
    expect(() =>
      defineAgent({
        name: 'x',
        description: '',
        instructions: '',
        tools: [tool, tool],
        sessionType: 'realtime',
        generation: { maxOutputTokens: 1 },
      }),
    ).toThrow(/twice/);
    expect(() =>
      defineAgent({
        name: 'x',
        description: '',
        instructions: '',
        tools: [tool],
        sessionType: 'transcription',
        generation: { maxOutputTokens: 1 },
      }),
    ).toThrow(/transcription/);
  });

  it('tools convert to JSON-schema specs for the engine', () => {
    for (const tool of ALL_TOOLS) {
      const spec = toToolSpec(tool);
      expect(spec.parameters).toMatchObject({ type: 'object' });
      expect(spec.parameters).not.toHaveProperty('$schema');
    }
    expect(new Set(ALL_TOOLS.map((t) => t.name)).size).toBe(ALL_TOOLS.length);
  });
});

describe('earshot agents / earshot tools', () => {
  it('--json lists agents with their tools', async () => {
    const json = JSON.parse(await run(registerAgentsCommand, ['agents', '--json'])) as {
      agents: { name: string; tools: string[]; session_type: string }[];
    };
    expect(json.agents.map((a) => a.name)).toEqual(['assistant', 'trip-planner', 'captioner', 'call-center']);
    expect(json.agents[0]).toMatchObject({
      session_type: 'realtime',
      tools: ['get_time', 'calculator', 'convert_units'],
    });
    expect(await run(registerAgentsCommand, ['agents'])).toContain('trip-planner (realtime)');
  });

  it('--json lists tools with their parameter schemas', async () => {
    const json = JSON.parse(await run(registerToolsCommand, ['tools', '--json'])) as {
      tools: { name: string; parameters: { properties: Record<string, unknown>; required?: string[] } }[];
    };
    expect(json.tools).toHaveLength(ALL_TOOLS.length);
    const convert = json.tools.find((t) => t.name === 'convert_units')!;
    expect(convert.parameters.properties).toMatchObject({ value: { type: 'number' }, from: { type: 'string' } });
    expect(convert.parameters.required).toEqual(['value', 'from', 'to']);
    expect(await run(registerToolsCommand, ['tools'])).toContain('calculator(expression: string)');
  });
});
