// response.create as a turn: the response's own input context, out-of-band branches, and its
// per-response system turn, around one respond() of the runtime.
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import { applyClientItem } from './client_items.ts';
import { referencedItem } from './response_params.ts';
import type { TurnHost } from './runtime_types.ts';
import { needsResponseSystem, responseSystemPrompt } from './session_prompt.ts';

/**
 * response.create. `input` gives the response its own context (OpenAI: "a new context for this
 * Response instead of the default conversation"): a separate engine session with the system prompt and
 * those items; in-band, what it produced is then appended to the conversation. `instructions` / `tools`
 * are a system turn for this response only: removed afterwards, the response's output kept.
 */
export async function runManualResponse(
  host: TurnHost,
  params: WireResponseCreateParams | undefined,
  signal: AbortSignal,
): Promise<void> {
  const engine = host.requireEngine('response.create');
  const main = host.context(engine);
  await main.refresh();
  const outOfBand = params?.conversation === 'none';
  const own = params?.input !== undefined ? host.newContext(engine) : null;
  const context = own ?? main;
  const checkpoint = outOfBand && !own ? await context.checkpoint() : null;
  try {
    for (const input of params?.input ?? []) {
      const item = input.type === 'item_reference' ? referencedItem(host.opts.items.get(input.id)) : input;
      if (item) await applyClientItem(context, item, { items: host.opts.items, emit: host.opts.emit, silent: true });
    }
    const historyBefore = context.history.length;
    const lengthBefore = context.length;
    const rebuildsBefore = context.rebuilds;
    const state = host.opts.state;
    const transient =
      params && needsResponseSystem(params, state.toolChoice)
        ? await context.appendTransientSystem(responseSystemPrompt(params, host.agent(), state))
        : null;
    try {
      await host.respond(
        context,
        {
          cachedTokens: lengthBefore,
          rebuildsBefore,
          params,
          outOfBand,
          ...(own ? { afterItemId: main.lastItemId() } : {}),
        },
        signal,
      );
    } finally {
      if (transient && !checkpoint) await context.keepAfterTransient(transient);
    }
    if (own && !outOfBand) {
      for (const entry of context.history.slice(historyBefore)) {
        if (entry.role === 'assistant') await main.appendAssistant(entry.text, entry.itemIds);
        else if (entry.role === 'tool') await main.appendToolResponse(entry.json, entry.itemIds);
      }
    }
  } finally {
    if (checkpoint) await context.rewind(checkpoint);
    await own?.dispose();
  }
}
