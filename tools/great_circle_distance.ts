import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { findPlace } from './data/places.ts';

const EARTH_RADIUS_KM = 6371.0088; // mean Earth radius (IUGG)

/** Haversine distance in km. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

export const greatCircleDistance = defineTool({
  name: 'great_circle_distance',
  description: 'Great-circle (flight) distance between two cities or airport codes, in km and miles.',
  parameters: z.object({
    from: z.string().min(1).describe('city or airport code'),
    to: z.string().min(1).describe('city or airport code'),
  }),
  execute: ({ from, to }) => {
    const point = (q: string) => {
      const place = findPlace(q);
      if (!place) throw new Error(`unknown city or airport "${q}"; try lookup_city`);
      const airport = place.airports.find((a) => a.iata.toLowerCase() === q.trim().toLowerCase());
      return airport
        ? { name: `${airport.iata} (${place.city})`, lat: airport.lat, lon: airport.lon }
        : { name: place.city, lat: place.lat, lon: place.lon };
    };
    const a = point(from);
    const b = point(to);
    const km = haversineKm(a.lat, a.lon, b.lat, b.lon);
    return { from: a.name, to: b.name, km: Math.round(km), miles: Math.round(km / 1.609344) };
  },
});
