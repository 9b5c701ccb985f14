import { defineAgent } from '../src/agent/agent.ts';
import {
  convertCurrencyTool,
  greatCircleDistance,
  itineraryAdd,
  itineraryList,
  itineraryRemove,
  localTime,
  lookupAirport,
  lookupCity,
  weatherForecast,
} from '../tools/index.ts';

export const tripPlanner = defineAgent({
  name: 'trip-planner',
  description:
    'Spoken trip planning: cities and airports, local times, flight distances, currency estimates and a saved itinerary.',
  instructions:
    'You are a trip-planning voice assistant. Answers are spoken: short sentences, no markdown. ' +
    'Look cities and airports up with the tools rather than from memory; say that currency figures are estimates from a dated table. ' +
    'When the caller decides on a flight, hotel or visit, add it to the itinerary, and read the itinerary back when asked.',
  tools: [
    lookupCity,
    lookupAirport,
    localTime,
    greatCircleDistance,
    convertCurrencyTool,
    itineraryAdd,
    itineraryList,
    itineraryRemove,
    weatherForecast,
  ],
  sessionType: 'realtime',
  generation: { maxOutputTokens: 400 },
});
