import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { tripName } from './itinerary_add.ts';

export const itineraryList = defineTool({
  name: 'itinerary_list',
  description: "Lists the stops of the caller's saved itinerary in date order.",
  parameters: z.object({ trip: tripName }),
  execute: ({ trip }, { services }) => ({ trip, stops: services.itineraries().listStops(trip) }),
});
