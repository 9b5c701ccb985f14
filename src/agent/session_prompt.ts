// What the model is offered: the session's system prompt (agent + session instructions, the tools
// tool_choice allows), and a response's own system turn when response.create changes either.
import type { ToolSpec } from '../engine/engine_session.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import type { ToolChoice } from '../protocol/server_session.ts';
import type { AgentSessionView } from './session_view.ts';
import type { AgentDefinition } from './agent.ts';
import type { SystemPrompt } from './conversation_context.ts';
import { NO_TOOLS_INSTRUCTION } from './prompts.ts';
import { toToolSpec, type ServerTool } from './tool.ts';

export function serverToolsOf(agent: AgentDefinition): Map<string, ServerTool> {
  return new Map(agent.tools.map((t) => [t.name, t]));
}

export function sessionSystemPrompt(agent: AgentDefinition, state: AgentSessionView): SystemPrompt {
  const instructions = [agent.instructions, state.instructions].filter((s) => s.trim() !== '').join('\n\n');
  if (state.toolChoice === 'none') return { instructions, tools: [] };
  return { instructions, tools: sessionToolSpecs(agent, state) };
}

/** The agent's server tools and the session's client tools (a server tool wins a shared name). */
export function sessionToolSpecs(agent: AgentDefinition, state: AgentSessionView): ToolSpec[] {
  const server = agent.tools.map(toToolSpec);
  const serverNames = new Set(server.map((t) => t.name));
  const client = state.tools
    .filter((t) => !serverNames.has(t.name))
    .map((t) => ({
      name: t.name,
      description: t.description ?? '',
      parameters: t.parameters ?? { type: 'object', properties: {} },
    }));
  return [...server, ...client];
}

/** The per-response system turn: the response's instructions and its function tools. */
export function responseSystemPrompt(
  params: WireResponseCreateParams,
  agent: AgentDefinition,
  state: AgentSessionView,
): SystemPrompt {
  const none = params.tool_choice === 'none';
  let tools = (params.tools ?? []).flatMap((t) =>
    t.type === 'function'
      ? [
          {
            name: t.name,
            description: t.description ?? '',
            parameters: t.parameters ?? { type: 'object', properties: {} },
          },
        ]
      : [],
  );
  // The session prompt offers no tools under session tool_choice 'none': a response that may call
  // them offers them here.
  if (params.tools === undefined && !none && state.toolChoice === 'none') tools = sessionToolSpecs(agent, state);
  // The session prompt's tools stay in the context: a response with tool_choice 'none' says so instead.
  const noTools = none && state.toolChoice !== 'none' ? NO_TOOLS_INSTRUCTION : '';
  const instructions = [params.instructions ?? '', noTools].filter((t) => t !== '').join('\n\n');
  return { instructions, tools: none ? [] : tools };
}

/** A response needs its own system turn for its instructions or tools, or a tool_choice that changes what the session prompt offers. */
export function needsResponseSystem(params: WireResponseCreateParams, sessionChoice: ToolChoice): boolean {
  if (params.instructions !== undefined || params.tools !== undefined) return true;
  const choice = params.tool_choice;
  if (choice === undefined) return false;
  return (choice === 'none') !== (sessionChoice === 'none');
}
