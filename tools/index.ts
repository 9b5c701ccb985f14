// Every server tool, in one explicit list (no registration by import side effects).
import type { ServerTool } from '../src/agent/tool.ts';
import { calculator } from './calculator.ts';
import { convertCurrencyTool } from './convert_currency.ts';
import { convertUnits } from './convert_units.ts';
import { findCustomer } from './find_customer.ts';
import { getTime } from './get_time.ts';
import { greatCircleDistance } from './great_circle_distance.ts';
import { itineraryAdd } from './itinerary_add.ts';
import { itineraryList } from './itinerary_list.ts';
import { itineraryRemove } from './itinerary_remove.ts';
import { listTickets } from './list_tickets.ts';
import { localTime } from './local_time.ts';
import { lookupAirport } from './lookup_airport.ts';
import { lookupCity } from './lookup_city.ts';
import { openTicket } from './open_ticket.ts';
import { saveCallSummary } from './save_call_summary.ts';
import { weatherForecast } from './weather_forecast.ts';

export {
  calculator,
  convertCurrencyTool,
  convertUnits,
  findCustomer,
  getTime,
  greatCircleDistance,
  itineraryAdd,
  itineraryList,
  itineraryRemove,
  listTickets,
  localTime,
  lookupAirport,
  lookupCity,
  openTicket,
  saveCallSummary,
  weatherForecast,
};

export const ALL_TOOLS: readonly ServerTool[] = [
  getTime,
  calculator,
  convertUnits,
  lookupCity,
  lookupAirport,
  localTime,
  greatCircleDistance,
  convertCurrencyTool,
  itineraryAdd,
  itineraryList,
  itineraryRemove,
  weatherForecast,
  findCustomer,
  openTicket,
  listTickets,
  saveCallSummary,
];
