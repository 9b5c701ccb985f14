import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { RATES_DATE, RATES_SOURCE, UNITS_PER_EUR } from './data/exchange_rates.ts';

export function convertCurrency(amount: number, from: string, to: string): number {
  const a = UNITS_PER_EUR[from.toUpperCase()];
  const b = UNITS_PER_EUR[to.toUpperCase()];
  if (a === undefined) throw new Error(`unknown currency "${from}"; known: ${Object.keys(UNITS_PER_EUR).join(', ')}`);
  if (b === undefined) throw new Error(`unknown currency "${to}"; known: ${Object.keys(UNITS_PER_EUR).join(', ')}`);
  return (amount / a) * b;
}

export const convertCurrencyTool = defineTool({
  name: 'convert_currency',
  description: `Converts money between currencies with the bundled rate table dated ${RATES_DATE} (an estimate, not a live rate).`,
  parameters: z.object({
    amount: z.number().nonnegative().describe('amount of money'),
    from: z.string().length(3).describe('ISO 4217 code, e.g. USD'),
    to: z.string().length(3).describe('ISO 4217 code, e.g. JPY'),
  }),
  execute: ({ amount, from, to }) => ({
    amount,
    from: from.toUpperCase(),
    to: to.toUpperCase(),
    result: Math.round(convertCurrency(amount, from, to) * 100) / 100,
    rates_date: RATES_DATE,
    source: RATES_SOURCE,
  }),
});
