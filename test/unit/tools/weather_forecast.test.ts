import { describe, expect, it } from 'vitest';
import { weatherForecast } from '../../../tools/weather_forecast.ts';
import { callTool, okResult, tempServices } from './tool_harness.ts';

describe('weather_forecast (remote service)', () => {
  it('fails with a clear message when the service is not configured', async () => {
    expect(await callTool(weatherForecast, { city: 'Paris' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('agent.remote_services.weather.url'),
    });
  });
  it('calls the configured URL with the key and the city coordinates', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const services = tempServices({
      remote: () => ({ url: 'http://127.0.0.1:9/forecast', api_key: 'k123' }),
      fetch: async (input, init) => {
        seen.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
        return new Response(JSON.stringify({ days: [{ high_c: 18 }] }), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    expect(okResult(await callTool(weatherForecast, { city: 'Paris', days: 2 }, services))).toEqual({
      city: 'Paris',
      forecast: { days: [{ high_c: 18 }] },
    });
    expect(seen).toEqual([{ url: 'http://127.0.0.1:9/forecast?lat=48.86&lon=2.35&days=2', auth: 'Bearer k123' }]);
  });
  it('refuses bad arguments', async () => {
    expect(await callTool(weatherForecast, { city: 'Paris', days: 30 })).toMatchObject({ code: 'invalid_arguments' });
  });
});
