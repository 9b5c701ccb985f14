// Agents of your own: modules are validated by the built-in agents' rules, and a bad one is one error naming
// the file and the field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../../agents/index.ts';
import { loadAgentModule, withAgentModules } from '../../../src/agent/agent_modules.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'agents');
const dir = mkdtempSync(join(tmpdir(), 'earshot-agent-modules-'));

function moduleFile(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

describe('agent modules', () => {
  it('loads a plain JavaScript agent whose tool has JSON-schema parameters, validating arguments by them', async () => {
    const [agent] = await loadAgentModule(join(FIXTURES, 'desk_agent.mjs'));
    expect(agent.name).toBe('help-desk');
    expect(agent.sessionType).toBe('realtime');
    const tool = agent.tools[0];
    expect(tool.parameters.safeParse({ city: 'Oslo' }).success).toBe(true);
    expect(tool.parameters.safeParse({ city: 7 }).success).toBe(false);
    expect(tool.parameters.safeParse({}).success).toBe(false);
    expect(await tool.execute({ city: 'Oslo' }, {} as never)).toEqual({ city: 'Oslo', hours: '08:00-16:00' });
  });

  it('loads an array of TypeScript agents built with defineAgent / defineTool and zod', async () => {
    const agents = await loadAgentModule(join(FIXTURES, 'typed_agents.ts'));
    expect(agents.map((a) => [a.name, a.sessionType])).toEqual([
      ['dice-master', 'realtime'],
      ['quiet-notes', 'transcription'],
    ]);
    expect(agents[0].tools[0].parameters.safeParse({ n: 11 }).success).toBe(false);
  });

  it.each([
    ['no default export', 'export const x = 1;', /default: the module has no default export/],
    [
      'a bad agent name',
      "export default { name: 'Bad Name', description: 'd', instructions: '' };",
      /default\.name: must be kebab-case/,
    ],
    ['a missing description', "export default { name: 'ok', instructions: '' };", /default\.description/],
    [
      'an unknown field',
      "export default { name: 'ok', description: 'd', instructions: '', colour: 'red' };",
      /default: .*colour/,
    ],
    [
      'a tool without execute',
      "export default [{ name: 'ok', description: 'd', instructions: '', tools: [{ name: 't', description: 'x', parameters: { type: 'object', properties: {} } }] }];",
      /default\[0\]\.tools\[0\]\.execute: must be a function/,
    ],
    [
      'tool parameters that are not an object schema',
      "export default { name: 'ok', description: 'd', instructions: '', tools: [{ name: 't', description: 'x', parameters: { type: 'string' }, execute: () => 1 }] };",
      /default\.tools\[0\]\.parameters: must describe an object/,
    ],
    ['a syntax error', 'export default {', /the module cannot be loaded/],
  ])('refuses %s with one E_AGENT_MODULE error naming the file and field', async (_label, source, message) => {
    const path = moduleFile(`m${Math.random().toString(36).slice(2)}.mjs`, source);
    const error = await loadAgentModule(path).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_AGENT_MODULE' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a module agent that reuses a built-in name, and names a missing file', async () => {
    const clash = moduleFile(
      'clash.mjs',
      `export default { name: '${AGENTS[0].name}', description: 'd', instructions: '' };`,
    );
    await expect(withAgentModules(AGENTS, [clash])).rejects.toMatchObject({
      code: 'E_AGENT_MODULE',
      message: expect.stringMatching(/already defined by the built-in agents/),
    });
    await expect(withAgentModules(AGENTS, [join(dir, 'nope.mjs')])).rejects.toMatchObject({ code: 'E_FILE_NOT_FOUND' });
  });
});
