// The end-of-call summary (agents with summarizeOnEnd): generated as an out-of-band branch of the
// conversation, from the user's transcripts, and kept by the call-center store.
import type { AgentDefinition } from './agent.ts';
import type { ConversationContext } from './conversation_context.ts';
import { SUMMARY_PROMPT } from './prompts.ts';
import type { AgentRuntimeOptions } from './runtime_types.ts';

export async function summarizeCall(
  context: ConversationContext,
  opts: AgentRuntimeOptions,
  agent: () => AgentDefinition,
): Promise<string> {
  const transcript = context.history
    .filter((h) => h.role === 'user' && h.text)
    .map((h) => (h as { text: string }).text);
  const checkpoint = await context.checkpoint();
  try {
    await context.appendUserText(SUMMARY_PROMPT);
    let summary = '';
    for await (const event of await context.generate({ maxNewTokens: agent().generation.maxOutputTokens })) {
      if (event.type === 'delta') summary += event.text;
    }
    opts.services.callCenter().saveCallSummary(opts.state.id, summary.trim(), transcript);
    return summary.trim();
  } finally {
    await context.rewind(checkpoint);
  }
}
