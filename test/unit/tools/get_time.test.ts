import { describe, expect, it } from 'vitest';
import { getTime } from '../../../tools/get_time.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('get_time', () => {
  it('gives the time in a zone', async () => {
    expect(okResult(await callTool(getTime, { time_zone: 'Asia/Tokyo' }))).toMatchObject({
      local_time: 'Sunday, 1 March 2026 at 21:00',
      iso_utc: '2026-03-01T12:00:00.000Z',
    });
    expect(okResult(await callTool(getTime, {}))).toMatchObject({
      time_zone: 'UTC',
      local_time: 'Sunday, 1 March 2026 at 12:00',
    });
  });
  it('refuses an unknown zone', async () => {
    expect(await callTool(getTime, { time_zone: 'Mars/Olympus' })).toMatchObject({
      status: 'error',
      code: 'invalid_arguments',
    });
    expect(await callTool(getTime, { time_zone: 5 })).toMatchObject({ status: 'error', code: 'invalid_arguments' });
  });
});
