import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itineraryAdd } from '../../../tools/itinerary_add.ts';
import { itineraryList } from '../../../tools/itinerary_list.ts';
import { itineraryRemove } from '../../../tools/itinerary_remove.ts';
import { ItineraryStore } from '../../../src/store/agent_itinerary_store.ts';
import { callTool, okResult, tempServices } from './tool_harness.ts';

describe('itinerary_add / itinerary_list / itinerary_remove', () => {
  it('build up an itinerary in date order, and it survives a restart', async () => {
    const services = tempServices();
    okResult(await callTool(itineraryAdd, { description: 'Louvre', city: 'Paris', date: '2026-05-03' }, services));
    const flight = okResult(
      await callTool(itineraryAdd, { description: 'Flight to CDG', date: '2026-05-02' }, services),
    ) as { id: number };
    okResult(await callTool(itineraryAdd, { trip: 'other', description: 'elsewhere' }, services));
    const listed = okResult(await callTool(itineraryList, {}, services)) as { stops: { description: string }[] };
    expect(listed.stops.map((s) => s.description)).toEqual(['Flight to CDG', 'Louvre']);
    services.close();
    // A new process: reopen the same file.
    const reopened = ItineraryStore.open(join(services.dir, 'itineraries.sqlite'));
    expect(reopened.listStops('my trip').map((s) => s.description)).toEqual(['Flight to CDG', 'Louvre']);
    reopened.close();
    expect(okResult(await callTool(itineraryRemove, { id: flight.id }, services))).toEqual({
      removed: flight.id,
      trip: 'my trip',
    });
    expect((okResult(await callTool(itineraryList, {}, services)) as { stops: unknown[] }).stops).toHaveLength(1);
  });
  it('refuses bad arguments and unknown stops', async () => {
    const services = tempServices();
    expect(await callTool(itineraryAdd, { description: 'x', date: '3 May' }, services)).toMatchObject({
      code: 'invalid_arguments',
    });
    expect(await callTool(itineraryAdd, {}, services)).toMatchObject({ code: 'invalid_arguments' });
    expect(await callTool(itineraryRemove, { id: 999 }, services)).toMatchObject({
      status: 'error',
      error: expect.stringContaining('no stop 999'),
    });
    expect(await callTool(itineraryRemove, { id: -1 }, services)).toMatchObject({ code: 'invalid_arguments' });
  });
});
