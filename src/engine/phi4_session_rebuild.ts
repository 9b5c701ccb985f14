// Turn-log arithmetic of a Phi-4 session's context changes, without touching the KV cache: what a rebuild
// keeps (turns whole, compacted to their transcript, or dropped, as the planner decided) and what a rewind
// to a checkpoint keeps. phi4_session.ts applies the results to the cache.

import type { RebuildPlan } from './context_budget.ts';
import type { Phi4Tokenizer } from './phi4mm/tokenizer.ts';
import { TOKEN_ID } from './phi4mm/tokenizer_ids.ts';
import { isOpen, turnTokens, userIds, type Turn } from './phi4_session_turns.ts';

export interface CompactedTurns {
  kept: Turn[];
  compacted: number;
  dropped: number;
}

/** The turns a rebuild re-prefills: audio replaced by its transcript or turns dropped per the plan; an open
 * assistant turn gets its `<|end|>`. The input turns are left as they were (a failed rebuild restores them). */
export function compactTurns(tokenizer: Phi4Tokenizer, turns: readonly Turn[], plan: RebuildPlan): CompactedTurns {
  const kept: Turn[] = [];
  let compacted = 0;
  let dropped = 0;
  turns.forEach((t, i) => {
    const action = plan.actions[i];
    if (action === 'drop') {
      dropped++;
      return;
    }
    if (action === 'text') {
      compacted++;
      const { ids } = userIds(tokenizer, t.parts!, { transcript: t.transcript });
      kept.push({ ...t, ids, audio: [], compacted: true });
      return;
    }
    kept.push({ ...t, ids: isOpen(t) ? [...t.ids, TOKEN_ID.end] : [...t.ids] });
  });
  return { kept, compacted, dropped };
}

/**
 * The turns before checkpoint turn `cpTurns` and their token count. Within the checkpoint's epoch
 * (`cpLength` given) the last turns are trimmed back to the exact length (e.g. an `<|end|>` that closed an
 * open turn after the checkpoint); across a rebuild the kept turns' own length is the target.
 */
export function turnsAtCheckpoint(
  turns: readonly Turn[],
  cpTurns: number,
  cpLength?: number,
): { kept: Turn[]; tokens: number } {
  const kept = turns.filter((t) => t.index < cpTurns);
  if (cpLength === undefined) return { kept, tokens: turnTokens(kept) };
  let excess = turnTokens(kept) - cpLength;
  while (excess > 0 && kept.length > 0) {
    const last = kept[kept.length - 1];
    const cut = Math.min(excess, last.ids.length);
    kept[kept.length - 1] = { ...last, ids: last.ids.slice(0, last.ids.length - cut) };
    if (kept[kept.length - 1].ids.length === 0) kept.pop();
    excess -= cut;
  }
  return { kept, tokens: cpLength };
}
