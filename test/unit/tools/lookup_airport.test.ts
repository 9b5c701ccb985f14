import { describe, expect, it } from 'vitest';
import { lookupAirport } from '../../../tools/lookup_airport.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('lookup_airport', () => {
  it('finds airports by IATA code or name', async () => {
    expect(okResult(await callTool(lookupAirport, { code_or_name: 'cdg' }))).toEqual([
      expect.objectContaining({ iata: 'CDG', city: 'Paris' }),
    ]);
    expect(okResult(await callTool(lookupAirport, { code_or_name: 'Heathrow' }))).toEqual([
      expect.objectContaining({ iata: 'LHR', city: 'London' }),
    ]);
  });
  it('reports unknown codes and bad arguments', async () => {
    expect(await callTool(lookupAirport, { code_or_name: 'ZZZ' })).toMatchObject({ status: 'error' });
    expect(await callTool(lookupAirport, { code_or_name: 'x' })).toMatchObject({ code: 'invalid_arguments' });
  });
});
