import { describe, expect, it } from 'vitest';
import { convertCurrencyTool } from '../../../tools/convert_currency.ts';
import { RATES_DATE } from '../../../tools/data/exchange_rates.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('convert_currency', () => {
  it('converts through the dated table and says its date', async () => {
    expect(okResult(await callTool(convertCurrencyTool, { amount: 100, from: 'eur', to: 'USD' }))).toMatchObject({
      result: 103.5,
      rates_date: RATES_DATE,
      from: 'EUR',
    });
    expect(okResult(await callTool(convertCurrencyTool, { amount: 103.5, from: 'USD', to: 'EUR' }))).toMatchObject({
      result: 100,
    });
  });
  it('refuses unknown currencies and bad amounts', async () => {
    expect(await callTool(convertCurrencyTool, { amount: 1, from: 'XXX', to: 'EUR' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('unknown currency'),
    });
    expect(await callTool(convertCurrencyTool, { amount: -5, from: 'USD', to: 'EUR' })).toMatchObject({
      code: 'invalid_arguments',
    });
    expect(await callTool(convertCurrencyTool, { amount: 5, from: 'US', to: 'EUR' })).toMatchObject({
      code: 'invalid_arguments',
    });
  });
});
