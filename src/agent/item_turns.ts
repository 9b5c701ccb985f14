// conversation.item.create / .retrieve / .delete as turns: applied in turn order because each may
// change (or depend on) the model's context.
import { addAudioItem } from './audio_item.ts';
import { applyClientItem, type ItemPlacement } from './client_items.ts';
import type { ItemAudioClip, Job, TurnHost } from './runtime_types.ts';

type ItemJob = Extract<Job, { type: 'item' }>;

export async function runItemTurn(host: TurnHost, job: ItemJob, _signal: AbortSignal): Promise<void> {
  const context = host.context(host.requireEngine('conversation.item.create'));
  await context.refresh();
  await applyClientItem(
    context,
    { ...job.item, id: job.itemId },
    { items: host.opts.items, emit: host.opts.emit, ...placementOf(job) },
  );
  host.turnTaken();
}

/** A user message with audio: reported, captioned like committed speech, then appended as one user turn. */
export async function runAudioItemTurn(
  host: TurnHost,
  job: ItemJob,
  clips: ItemAudioClip[],
  signal: AbortSignal,
): Promise<void> {
  const engine = host.requireEngine('conversation.item.create');
  const context = host.context(engine);
  await context.refresh();
  const { state, settings, items, emit } = host.opts;
  const appended = await addAudioItem(
    { engine, context, state, captionMaxTokens: settings.captionMaxTokens, items, emit, signal },
    job.itemId,
    job.item,
    clips,
    placementOf(job),
  );
  if (appended) host.turnTaken();
}

function placementOf(job: ItemJob): ItemPlacement {
  return 'previousItemId' in job ? { previousItemId: job.previousItemId ?? null } : {};
}

export function runItemEdit(
  host: TurnHost,
  job: Extract<Job, { type: 'retrieve' }> | Extract<Job, { type: 'delete' }>,
): void {
  const item = host.opts.items.get(job.itemId);
  if (!item) {
    host.opts.emitError(
      'E_ITEM_NOT_FOUND',
      `No item ${JSON.stringify(job.itemId.slice(0, 64))} in the conversation.`,
      job.clientEventId,
    );
    return;
  }
  if (job.type === 'retrieve') {
    host.opts.emit({ type: 'conversation.item.retrieved', item });
    return;
  }
  host.opts.items.remove(job.itemId);
  host.existingContext()?.forgetItem(job.itemId);
  host.opts.emit({ type: 'conversation.item.deleted', item_id: job.itemId });
}
