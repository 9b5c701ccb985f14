import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { findPlace } from './data/places.ts';
import { formatInZone } from './get_time.ts';

export const localTime = defineTool({
  name: 'local_time',
  description: 'Current local time in a city (or at an airport code) from the bundled dataset.',
  parameters: z.object({ city: z.string().min(1).max(100).describe('city name or airport code, e.g. Tokyo or NRT') }),
  execute: ({ city }, { services }) => {
    const place = findPlace(city);
    if (!place) throw new Error(`unknown city "${city}"; try lookup_city`);
    return { city: place.city, time_zone: place.timeZone, local_time: formatInZone(services.now(), place.timeZone) };
  },
});
