// Context budget planning (docs/architecture.md decision 6, docs/model.md): a session stays at or below its
// budget (4096 tokens by default, where LongRoPE switches to its long factors; KV entries computed
// under one regime are never recomputed, so crossing it silently degrades the model). When a new turn
// would cross it, the session is rebuilt: system prompt and tools first, older user turns with their
// audio replaced by their transcripts, the most recent turns whole, the oldest exchanges dropped if
// that is still not enough. This file only decides what to keep; the session re-prefills.

import { EarshotError } from '../errors.ts';

export const DEFAULT_CONTEXT_BUDGET_TOKENS = 4096;
/** User turns (and what follows them) kept whole at a rebuild, when they fit. */
export const DEFAULT_KEEP_RECENT_USER_TURNS = 2;

export type TurnKind = 'system' | 'user' | 'assistant' | 'tool';

export interface TurnCost {
  kind: TurnKind;
  /** Tokens the turn holds now. */
  tokens: number;
  /** Tokens with its audio replaced by the transcript (user turns with audio only). */
  textTokens?: number;
}

export type TurnAction = 'keep' | 'text' | 'drop';

export interface RebuildPlan {
  actions: TurnAction[];
  /** Tokens of the rebuilt turns. */
  tokens: number;
}

export interface PlanOptions {
  budgetTokens: number;
  /** Tokens that must fit after the rebuild (the new turn, plus room to answer). */
  neededTokens: number;
  /** Extra room the rebuild tries to leave so the next turns do not rebuild again at once. */
  slackTokens?: number;
  keepRecentUserTurns?: number;
}

/** Whether appending `neededTokens` to `currentTokens` stays within the budget. */
export function fitsBudget(currentTokens: number, neededTokens: number, budgetTokens: number): boolean {
  return currentTokens + neededTokens <= budgetTokens;
}

export function planRebuild(turns: readonly TurnCost[], options: PlanOptions): RebuildPlan {
  const hard = options.budgetTokens - options.neededTokens;
  const soft = Math.max(0, hard - Math.max(0, options.slackTokens ?? 0));
  const keepRecent = Math.max(1, options.keepRecentUserTurns ?? DEFAULT_KEEP_RECENT_USER_TURNS);
  const actions: TurnAction[] = turns.map(() => 'keep');
  const cost = (i: number): number =>
    actions[i] === 'drop' ? 0 : actions[i] === 'text' ? turns[i].textTokens! : turns[i].tokens;
  const total = (): number => turns.reduce((n, _, i) => n + cost(i), 0);

  const userIndexes = turns.map((t, i) => (t.kind === 'user' ? i : -1)).filter((i) => i >= 0);
  const lastUser = userIndexes.at(-1) ?? turns.length;
  const recentStart =
    userIndexes.length >= keepRecent ? userIndexes[userIndexes.length - keepRecent] : (userIndexes[0] ?? turns.length);

  const toText = (from: number, to: number, limit: number): boolean => {
    for (let i = from; i < to; i++) {
      if (total() <= limit) return true;
      if (turns[i].kind === 'user' && turns[i].textTokens !== undefined && actions[i] === 'keep') actions[i] = 'text';
    }
    return total() <= limit;
  };
  // Drops whole exchanges (a user turn and the assistant / tool turns after it), oldest first.
  const dropExchanges = (from: number, to: number, limit: number): boolean => {
    let i = from;
    while (i < to && total() > limit) {
      if (turns[i].kind === 'system') {
        i++;
        continue;
      }
      do {
        actions[i] = 'drop';
        i++;
      } while (i < to && turns[i].kind !== 'user' && turns[i].kind !== 'system');
    }
    return total() <= limit;
  };

  const done = (): RebuildPlan => ({ actions, tokens: total() });
  if (total() <= soft) return done();
  // Older turns: transcripts instead of audio, then drop the oldest exchanges.
  if (toText(0, recentStart, soft) || dropExchanges(0, recentStart, soft)) return done();
  if (total() <= hard) return done();
  // Still over the hard limit: give up on keeping the recent turns whole, but never on the last user turn.
  if (toText(recentStart, lastUser, hard) || dropExchanges(recentStart, lastUser, hard)) return done();
  if (toText(lastUser, turns.length, hard)) return done();
  throw new EarshotError(
    'E_CONTEXT_OVERFLOW',
    `The conversation cannot fit its ${options.budgetTokens}-token budget: the system prompt and the latest turn alone need ${total()} tokens plus ${options.neededTokens} for the new input.`,
  );
}
