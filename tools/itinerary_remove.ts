import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { tripName } from './itinerary_add.ts';

export const itineraryRemove = defineTool({
  name: 'itinerary_remove',
  description: 'Removes one stop (by its id from itinerary_list) from the saved itinerary.',
  parameters: z.object({ trip: tripName, id: z.number().int().positive().describe('stop id') }),
  execute: ({ trip, id }, { services }) => {
    if (!services.itineraries().removeStop(trip, id)) throw new Error(`no stop ${id} in "${trip}"`);
    return { removed: id, trip };
  },
});
