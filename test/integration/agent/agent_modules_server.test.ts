// Agents of your own, end to end: `earshot agents --agents FILE --json` lists the module's agent, a server
// started with agent.modules serves it at GET /v1/agents, and a WebSocket session picks it with ?agent= and
// runs its tool (scripted engine: the model's choice of tool is agent logic here, the tool itself is real).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/main.ts';
import { REPO_ROOT } from '../../helpers/golden.ts';
import { ScriptedEngine } from '../../helpers/scripted_engine.ts';
import { TestClient } from '../../helpers/ws_client.ts';
import { startAgentServer } from './agent_server.ts';

const DESK_MODULE = join(REPO_ROOT, 'test', 'fixtures', 'agents', 'desk_agent.mjs');
const TYPED_MODULE = join(REPO_ROOT, 'test', 'fixtures', 'agents', 'typed_agents.ts');
const BIN = join(REPO_ROOT, 'src', 'cli', 'earshot.mjs');

describe('agent modules on the server', () => {
  const engine = new ScriptedEngine({
    answer: (ctx) =>
      ctx.toolResponses.length === 0
        ? '<|tool_call|>[{"name": "lookup_desk", "arguments": {"city": "Oslo"}}]<|/tool_call|>'
        : `Open ${JSON.parse(ctx.toolResponses[0]).hours}.`,
  });
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAgentServer(engine, { agent: { modules: [DESK_MODULE, TYPED_MODULE] } });
  });
  afterAll(() => server.close());

  it('earshot agents --agents FILE --json lists the module agents after the built-in ones', () => {
    const r = spawnSync(process.execPath, [BIN, 'agents', '--agents', DESK_MODULE, '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { agents } = JSON.parse(r.stdout) as { agents: { name: string; tools: string[] }[] };
    expect(agents.at(-1)).toMatchObject({ name: 'help-desk', tools: ['lookup_desk'] });
    expect(agents.map((a) => a.name)).toContain('assistant');
  });

  it('earshot agents with a bad module prints one line naming the file, exit 1', () => {
    const r = spawnSync(process.execPath, [BIN, 'agents', '--agents', join(REPO_ROOT, 'package.json')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^earshot: E_AGENT_MODULE: .*package\.json/)]);
  });

  it('GET /v1/agents serves the catalogue with the module agents', async () => {
    const response = await fetch(`${server.httpUrl}/v1/agents`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { name: string; description: string; tools: string[] }[] };
    const byName = new Map(body.data.map((a) => [a.name, a]));
    expect(byName.get('help-desk')).toMatchObject({
      description: expect.stringMatching(/help desk/),
      tools: ['lookup_desk'],
    });
    expect(byName.get('dice-master')?.tools).toEqual(['roll_dice']);
    expect(byName.has('assistant')).toBe(true);
  });

  it('a WebSocket session picks the module agent with ?agent= and its tool runs', async () => {
    const client = await TestClient.connect(`${server.url}?agent=help-desk`);
    try {
      client.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'When is the desk open?' }] },
      });
      client.send({ type: 'response.create' });
      const output = await client.waitFor(
        (e) => e.type === 'conversation.item.done' && (e.item as { type?: string }).type === 'function_call_output',
        30_000,
      );
      expect(JSON.parse((output.item as { output: string }).output)).toEqual({ city: 'Oslo', hours: '08:00-16:00' });
      const done = await client.waitFor(
        (e) => e.type === 'response.output_text.done' && String(e.text).startsWith('Open'),
        30_000,
      );
      expect(done.text).toBe('Open 08:00-16:00.');
      expect(client.events.some((e) => e.type === 'error')).toBe(false);
    } finally {
      client.close();
    }
  });
});
