import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

export function formatInZone(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'full', timeStyle: 'short' }).format(date);
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const getTime = defineTool({
  name: 'get_time',
  description: 'Current date and time, in a given IANA time zone (e.g. Europe/Paris) or UTC.',
  parameters: z.object({
    time_zone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'not an IANA time zone such as Europe/Paris')
      .describe('IANA time zone, default UTC'),
  }),
  execute: ({ time_zone }, { services }) => {
    const now = services.now();
    return { time_zone, local_time: formatInZone(now, time_zone), iso_utc: now.toISOString() };
  },
});
