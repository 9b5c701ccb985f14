import { describe, expect, it } from 'vitest';
import { lookupCity } from '../../../tools/lookup_city.ts';
import { PLACES } from '../../../tools/data/places.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('lookup_city', () => {
  it('finds cities by prefix, ignoring accents and case', async () => {
    expect(okResult(await callTool(lookupCity, { query: 'san fran' }))).toEqual([
      expect.objectContaining({
        city: 'San Francisco',
        time_zone: 'America/Los_Angeles',
        airports: ['SFO (San Francisco International)'],
      }),
    ]);
    expect(okResult(await callTool(lookupCity, { query: 'sao paulo' }))).toEqual([
      expect.objectContaining({ city: 'São Paulo' }),
    ]);
  });
  it('reports no match and bad arguments', async () => {
    expect(await callTool(lookupCity, { query: 'Atlantis' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('no city'),
    });
    expect(await callTool(lookupCity, { query: '' })).toMatchObject({ code: 'invalid_arguments' });
  });
  it('the bundled dataset is consistent', () => {
    for (const p of PLACES) {
      expect(Math.abs(p.lat)).toBeLessThanOrEqual(90);
      expect(() => new Intl.DateTimeFormat('en', { timeZone: p.timeZone })).not.toThrow();
      for (const a of p.airports) expect(a.iata).toMatch(/^[A-Z]{3}$/);
    }
  });
});
