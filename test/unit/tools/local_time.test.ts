import { describe, expect, it } from 'vitest';
import { localTime } from '../../../tools/local_time.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('local_time', () => {
  it('gives the local time of a city or airport', async () => {
    expect(okResult(await callTool(localTime, { city: 'Tokyo' }))).toMatchObject({
      time_zone: 'Asia/Tokyo',
      local_time: 'Sunday, 1 March 2026 at 21:00',
    });
    expect(okResult(await callTool(localTime, { city: 'JFK' }))).toMatchObject({
      city: 'New York',
      local_time: 'Sunday, 1 March 2026 at 07:00',
    });
  });
  it('reports unknown cities and bad arguments', async () => {
    expect(await callTool(localTime, { city: 'Gotham' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('unknown city'),
    });
    expect(await callTool(localTime, {})).toMatchObject({ code: 'invalid_arguments' });
  });
});
