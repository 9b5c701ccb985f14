import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { searchPlaces } from './data/places.ts';

export const lookupCity = defineTool({
  name: 'lookup_city',
  description: 'Finds a city in the bundled dataset: country, time zone, coordinates and its main airports.',
  parameters: z.object({ query: z.string().min(1).max(100).describe('city name or part of it, e.g. "san fran"') }),
  execute: ({ query }) => {
    const matches = searchPlaces(query);
    if (matches.length === 0) throw new Error(`no city matching "${query}" in the bundled dataset`);
    return matches.map((p) => ({
      city: p.city,
      country: p.country,
      time_zone: p.timeZone,
      lat: p.lat,
      lon: p.lon,
      airports: p.airports.map((a) => `${a.iata} (${a.name})`),
    }));
  },
});
