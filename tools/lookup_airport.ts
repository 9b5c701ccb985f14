import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { PLACES } from './data/places.ts';

export const lookupAirport = defineTool({
  name: 'lookup_airport',
  description: 'Looks up an airport by its three-letter IATA code (e.g. CDG) or by name, with the city it serves.',
  parameters: z.object({
    code_or_name: z.string().min(2).max(100).describe('IATA code such as JFK, or part of an airport name'),
  }),
  execute: ({ code_or_name }) => {
    const q = code_or_name.trim().toLowerCase();
    const found = PLACES.flatMap((p) =>
      p.airports.map((a) => ({ ...a, city: p.city, country: p.country, time_zone: p.timeZone })),
    ).filter((a) => a.iata.toLowerCase() === q || (q.length > 3 && a.name.toLowerCase().includes(q)));
    if (found.length === 0) throw new Error(`no airport matching "${code_or_name}" in the bundled dataset`);
    return found;
  },
});
