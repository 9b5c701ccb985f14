// Runs one parsed tool call: look the tool up, validate its arguments with its zod schema, execute with a
// timeout and an AbortSignal. Every failure becomes an error result for the model (never a crashed turn).
import { z } from 'zod';
import type { Logger } from '../observability/logger.ts';
import type { AgentServices } from './services.ts';
import type { ServerTool } from './tool.ts';
import type { ParsedToolCall } from './tool_call_parser.ts';

export type ToolOutcome =
  | { status: 'ok'; result: unknown }
  | {
      status: 'error';
      error: string;
      code: 'unknown_tool' | 'malformed_call' | 'invalid_arguments' | 'timeout' | 'aborted' | 'tool_error';
    };

export interface RunToolOptions {
  tools: ReadonlyMap<string, ServerTool>;
  defaultTimeoutMs: number;
  /** Aborted by barge-in or response.cancel. */
  signal: AbortSignal;
  log: Logger;
  services: AgentServices;
  sessionId: string;
}

export async function runToolCall(call: ParsedToolCall, opts: RunToolOptions): Promise<ToolOutcome> {
  if (!call.ok)
    return {
      status: 'error',
      code: 'malformed_call',
      error: `Malformed tool call: ${call.error}. Write calls as <|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>.`,
    };
  const tool = opts.tools.get(call.name);
  if (!tool) {
    return {
      status: 'error',
      code: 'unknown_tool',
      error: `Unknown tool ${JSON.stringify(call.name)}; available: ${[...opts.tools.keys()].join(', ') || 'none'}.`,
    };
  }
  const parsed = tool.parameters.safeParse(call.arguments);
  if (!parsed.success)
    return {
      status: 'error',
      code: 'invalid_arguments',
      error: `Invalid arguments for ${tool.name}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    };
  const timeoutMs = tool.timeoutMs ?? opts.defaultTimeoutMs;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(opts.signal.reason);
  if (opts.signal.aborted) return { status: 'error', code: 'aborted', error: 'The tool call was cancelled.' };
  opts.signal.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const log = opts.log.child({ tool: tool.name });
  try {
    const timeout = new Promise<ToolOutcome>((resolve) => {
      timer = setTimeout(() => {
        resolve({ status: 'error', code: 'timeout', error: `${tool.name} did not answer within ${timeoutMs} ms.` });
        controller.abort(new Error('timeout'));
      }, timeoutMs);
    });
    const aborted = new Promise<ToolOutcome>((resolve) => {
      opts.signal.addEventListener(
        'abort',
        () => resolve({ status: 'error', code: 'aborted', error: 'The tool call was cancelled.' }),
        { once: true },
      );
    });
    const run = (async (): Promise<ToolOutcome> => {
      const result = await tool.execute(parsed.data, {
        signal: controller.signal,
        log,
        services: opts.services,
        sessionId: opts.sessionId,
      });
      return { status: 'ok', result: result === undefined ? null : result };
    })().catch((err: unknown): ToolOutcome => {
      if (controller.signal.aborted) return { status: 'error', code: 'aborted', error: 'The tool call was cancelled.' };
      log.debug({ err }, 'tool failed');
      return { status: 'error', code: 'tool_error', error: err instanceof Error ? err.message : String(err) };
    });
    // The timeout wins over a tool that ignores its signal: the turn goes on, the late result is dropped.
    return await Promise.race([run, timeout, aborted]);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onOuterAbort);
  }
}

/** The JSON fed back to the model as `<|tool_response|>` and reported to clients as the call's output. */
export function outcomeToJson(outcome: ToolOutcome): string {
  const value = outcome.status === 'ok' ? outcome.result : { error: outcome.error };
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return JSON.stringify({ error: 'the tool returned a value that is not JSON' });
  }
}
