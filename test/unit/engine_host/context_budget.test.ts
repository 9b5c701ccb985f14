import { describe, expect, it } from 'vitest';
import { planRebuild, type TurnCost } from '../../../src/engine/context_budget.ts';

const sys: TurnCost = { kind: 'system', tokens: 50 };
const userAudio = (tokens = 100, textTokens = 12): TurnCost => ({ kind: 'user', tokens, textTokens });
const answer = (tokens = 30): TurnCost => ({ kind: 'assistant', tokens });

describe('planRebuild', () => {
  const turns: TurnCost[] = [
    sys,
    userAudio(),
    answer(),
    userAudio(),
    answer(),
    userAudio(),
    answer(),
    userAudio(),
    answer(),
  ];
  // total = 50 + 4 * 130 = 570

  it('keeps everything when it already fits the soft target', () => {
    expect(
      planRebuild(turns, { budgetTokens: 1000, neededTokens: 100, slackTokens: 0 }).actions.every((a) => a === 'keep'),
    ).toBe(true);
  });

  it('replaces the oldest audio by transcripts first and keeps the recent turns whole', () => {
    const plan = planRebuild(turns, { budgetTokens: 600, neededTokens: 100, slackTokens: 0 });
    expect(plan.actions).toEqual(['keep', 'text', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep']);
    expect(plan.tokens).toBe(482);
    expect(plan.tokens).toBeLessThanOrEqual(500);
  });

  it('drops the oldest exchanges when transcripts are not enough, never the system turn', () => {
    const plan = planRebuild(turns, { budgetTokens: 400, neededTokens: 60, slackTokens: 0 });
    expect(plan.actions[0]).toBe('keep');
    expect(plan.actions.slice(1, 3)).toEqual(['drop', 'drop']);
    expect(plan.actions.slice(5)).toEqual(['keep', 'keep', 'keep', 'keep']);
    expect(plan.tokens).toBeLessThanOrEqual(340);
  });

  it('gives up the recent turns whole before failing, and fails with E_CONTEXT_OVERFLOW when nothing fits', () => {
    const plan = planRebuild(turns, { budgetTokens: 250, neededTokens: 50, slackTokens: 0 });
    expect(plan.tokens).toBeLessThanOrEqual(200);
    expect(plan.actions[0]).toBe('keep');
    expect(plan.actions[7]).not.toBe('drop');
    expect(() => planRebuild(turns, { budgetTokens: 80, neededTokens: 60 })).toThrow(
      expect.objectContaining({ code: 'E_CONTEXT_OVERFLOW' }),
    );
  });

  it('the slack is best effort: the hard limit decides', () => {
    const plan = planRebuild([sys, userAudio(100, 100), answer()], {
      budgetTokens: 200,
      neededTokens: 10,
      slackTokens: 1000,
    });
    expect(plan.tokens).toBeLessThanOrEqual(190);
  });
});
