import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentServices } from '../../../src/agent/create_services.ts';
import type { AgentServices } from '../../../src/agent/services.ts';
import type { ServerTool } from '../../../src/agent/tool.ts';
import { runToolCall, type ToolOutcome } from '../../../src/agent/tool_runner.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { createLogger } from '../../../src/observability/logger.ts';

export const FIXED_NOW = new Date('2026-03-01T12:00:00Z');

export function tempServices(
  overrides: Partial<AgentServices> = {},
  config = defaultConfig().agent,
): AgentServices & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-tools-'));
  return { ...createAgentServices(config, { dataDir: dir, now: () => FIXED_NOW }), ...overrides, dir };
}

/** Calls a tool the way the runtime does: schema validation, timeout, error capture. */
export async function callTool(
  tool: ServerTool,
  args: Record<string, unknown>,
  services: AgentServices = tempServices(),
  sessionId = 'sess_test',
): Promise<ToolOutcome> {
  return runToolCall(
    { ok: true, name: tool.name, arguments: args, raw: '' },
    {
      tools: new Map([[tool.name, tool]]),
      defaultTimeoutMs: 2000,
      signal: new AbortController().signal,
      log: createLogger('silent'),
      services,
      sessionId,
    },
  );
}

export function okResult(outcome: ToolOutcome): unknown {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${outcome.code}: ${outcome.error}`);
  return outcome.result;
}
