// Agents of your own: `earshot serve --agents FILE` (config agent.modules) imports a JavaScript or TypeScript
// module whose default export is an agent definition or an array of them. Each is a plain object checked by
// the same rules as the built-in agents; its tools are defineTool objects, or plain objects whose
// `parameters` is a zod object or a JSON schema. A bad module is one error naming the file and the field.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { EarshotError } from '../errors.ts';
import { AGENT_NAME_PATTERN, defineAgent, type AgentDefinition } from './agent.ts';
import { TOOL_NAME_PATTERN, defineTool, type ServerTool } from './tool.ts';

const isZodObject = (value: unknown): value is z.ZodObject => value instanceof z.ZodObject;

const toolShape = z.strictObject({
  name: z.string().regex(TOOL_NAME_PATTERN, `must be snake_case (${TOOL_NAME_PATTERN})`),
  description: z.string().trim().min(1, 'the model chooses tools by their description: it must not be empty'),
  parameters: z.custom<unknown>(
    (v) => isZodObject(v) || (typeof v === 'object' && v !== null && !Array.isArray(v)),
    'must be a zod object or a JSON schema object',
  ),
  execute: z.custom<ServerTool['execute']>(
    (v) => typeof v === 'function',
    'must be a function (args, context) => result',
  ),
  timeoutMs: z.number().int().positive().optional(),
});

const agentShape = z.strictObject({
  name: z.string().regex(AGENT_NAME_PATTERN, `must be kebab-case (${AGENT_NAME_PATTERN})`),
  description: z.string().trim().min(1),
  instructions: z.string(),
  tools: z.array(z.unknown()).default([]),
  sessionType: z.enum(['realtime', 'transcription']).default('realtime'),
  generation: z
    .strictObject({
      maxOutputTokens: z.number().int().positive().max(100_000).default(512),
      temperature: z.number().min(0).max(2).optional(),
      seed: z.number().int().optional(),
    })
    .prefault({}),
  summarizeOnEnd: z.boolean().optional(),
});

function issuePath(prefix: string, issue: z.core.$ZodIssue): string {
  return [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
}

function invalid(file: string, field: string, message: string): EarshotError {
  return new EarshotError('E_AGENT_MODULE', `${file}: ${field}: ${message}`, { param: field });
}

/** A plain tool object as a ServerTool: JSON-schema parameters become a zod schema that validates the same. */
function toServerTool(file: string, field: string, raw: unknown): ServerTool {
  const parsed = toolShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, issuePath(field, issue), issue.message);
  }
  const tool = parsed.data;
  let parameters: z.ZodObject;
  if (isZodObject(tool.parameters)) parameters = tool.parameters;
  else {
    let schema: z.ZodType;
    try {
      schema = z.fromJSONSchema(tool.parameters as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      throw invalid(file, `${field}.parameters`, `not a usable JSON schema (${(error as Error).message})`);
    }
    if (!isZodObject(schema))
      throw invalid(file, `${field}.parameters`, 'must describe an object ({"type": "object", "properties": {...}})');
    parameters = schema;
  }
  return defineTool({ ...tool, parameters });
}

/** Checks one exported agent; throws E_AGENT_MODULE naming the file and the field at fault. */
export function validateAgentExport(file: string, raw: unknown, index: number | null): AgentDefinition {
  const where = index === null ? 'default' : `default[${index}]`;
  const parsed = agentShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, issuePath(where, issue), issue.message);
  }
  const tools = parsed.data.tools.map((tool, i) => toServerTool(file, `${where}.tools[${i}]`, tool));
  try {
    return defineAgent({ ...parsed.data, tools });
  } catch (error) {
    throw invalid(file, where, (error as Error).message);
  }
}

/** Imports one agent module and returns its agents. */
export async function loadAgentModule(path: string): Promise<AgentDefinition[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new EarshotError('E_FILE_NOT_FOUND', `agent module not found: ${path}`);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new EarshotError('E_AGENT_MODULE', `${path}: the module cannot be loaded: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (module.default === undefined)
    throw invalid(
      path,
      'default',
      'the module has no default export (export default defineAgent({...}) or an array of agents)',
    );
  const exported = module.default;
  return Array.isArray(exported)
    ? exported.map((a, i) => validateAgentExport(path, a, i))
    : [validateAgentExport(path, exported, null)];
}

/** The built-in agents plus every module's, with names checked to be unique across all of them. */
export async function withAgentModules(
  builtIn: readonly AgentDefinition[],
  paths: readonly string[],
): Promise<AgentDefinition[]> {
  const all = [...builtIn];
  const origin = new Map(builtIn.map((a) => [a.name, 'the built-in agents']));
  for (const path of paths) {
    for (const agent of await loadAgentModule(path)) {
      const earlier = origin.get(agent.name);
      if (earlier) throw invalid(path, 'name', `agent ${JSON.stringify(agent.name)} is already defined by ${earlier}`);
      origin.set(agent.name, path);
      all.push(agent);
    }
  }
  return all;
}
