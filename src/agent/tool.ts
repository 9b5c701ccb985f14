// Tools are plain TypeScript functions with zod parameters (docs/architecture.md, decision 7). The agent layer turns
// them into the engine's ToolSpec (JSON-schema parameters; the engine writes Phi's `<|tool|>` JSON) and
// runs them with validation, a timeout and an AbortSignal (tool_runner.ts).
import { z } from 'zod';
import type { Logger } from '../observability/logger.ts';
import type { ToolSpec } from '../engine/engine_session.ts';
import type { AgentServices } from './services.ts';

export interface ToolContext {
  /** Aborted at the tool's timeout, on barge-in and on response.cancel: stop work and return. */
  signal: AbortSignal;
  log: Logger;
  /** Stores and settings shared by the server's tools (SQLite stores, remote service config, clock). */
  services: AgentServices;
  /** The Realtime session the call belongs to (e.g. the call id of a call-center conversation). */
  sessionId: string;
}

// `any` in the schema position lets a heterogeneous list of tools be typed as ServerTool[].
// biome-ignore lint/suspicious/noExplicitAny: see above
export interface ServerTool<Schema extends z.ZodObject = any> {
  name: string;
  description: string;
  parameters: Schema;
  /** Returns any JSON-serialisable value; throwing reports the error to the model as the tool result. */
  execute(args: z.infer<Schema>, context: ToolContext): Promise<unknown> | unknown;
  /** Per-call time limit in ms (default: agent.tool_timeout_ms). */
  timeoutMs?: number;
}

export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function defineTool<Schema extends z.ZodObject>(tool: ServerTool<Schema>): ServerTool<Schema> {
  if (!TOOL_NAME_PATTERN.test(tool.name))
    throw new Error(`tool name ${JSON.stringify(tool.name)} must be snake_case (${TOOL_NAME_PATTERN})`);
  if (tool.description.trim() === '')
    throw new Error(`tool ${tool.name} needs a description: the model chooses tools by it`);
  return tool;
}

/** JSON schema of a tool's parameters (what `earshot tools --json` prints and what the engine converts). */
export function toolParametersJsonSchema(tool: ServerTool): Record<string, unknown> {
  const schema = z.toJSONSchema(tool.parameters, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}

export function toToolSpec(tool: ServerTool): ToolSpec {
  return { name: tool.name, description: tool.description, parameters: toolParametersJsonSchema(tool) };
}
