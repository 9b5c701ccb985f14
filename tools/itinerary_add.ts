import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export const tripName = z.string().min(1).max(100).default('my trip').describe('name of the trip, default "my trip"');

export const itineraryAdd = defineTool({
  name: 'itinerary_add',
  description: "Adds a stop or activity to the caller's saved itinerary (kept across calls).",
  parameters: z.object({
    trip: tripName,
    description: z.string().min(1).max(500).describe('what: flight, hotel, visit...'),
    city: z.string().max(100).optional().describe('where'),
    date: z.iso.date().optional().describe('YYYY-MM-DD'),
  }),
  execute: ({ trip, description, city, date }, { services }) =>
    services.itineraries().addStop(trip, { description, city, date }),
});
