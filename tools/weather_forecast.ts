import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';
import { EarshotError } from '../src/errors.ts';
import { findPlace } from './data/places.ts';

// A remote service: configured by URL and key in the config file (agent.remote_services.weather). The
// service is called as GET {url}?lat=..&lon=..&days=.. with `Authorization: Bearer {api_key}` and must
// answer JSON, which is passed to the model as it is.
export const weatherForecast = defineTool({
  name: 'weather_forecast',
  description: 'Weather forecast for a city (needs the weather service configured on the server).',
  parameters: z.object({ city: z.string().min(1).max(100), days: z.number().int().min(1).max(7).default(3) }),
  timeoutMs: 8000,
  execute: async ({ city, days }, { services, signal }) => {
    const service = services.remote('weather');
    if (!service?.url) {
      throw new EarshotError(
        'E_TOOL_NOT_CONFIGURED',
        'The weather service is not configured: set agent.remote_services.weather.url (and api_key) in the config file.',
      );
    }
    const place = findPlace(city);
    if (!place) throw new Error(`unknown city "${city}"; try lookup_city`);
    const url = new URL(service.url);
    url.searchParams.set('lat', String(place.lat));
    url.searchParams.set('lon', String(place.lon));
    url.searchParams.set('days', String(days));
    const response = await services.fetch(url, {
      signal,
      headers: service.api_key ? { authorization: `Bearer ${service.api_key}` } : {},
    });
    if (!response.ok) throw new Error(`the weather service answered HTTP ${response.status}`);
    return { city: place.city, forecast: (await response.json()) as unknown };
  },
});
