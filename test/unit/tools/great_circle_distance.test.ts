import { describe, expect, it } from 'vitest';
import { greatCircleDistance, haversineKm } from '../../../tools/great_circle_distance.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('great_circle_distance', () => {
  it('matches known distances', async () => {
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 6);
    const result = okResult(await callTool(greatCircleDistance, { from: 'London', to: 'New York' })) as { km: number };
    expect(result.km).toBeGreaterThan(5540);
    expect(result.km).toBeLessThan(5600); // London-New York is about 5570 km
    expect(okResult(await callTool(greatCircleDistance, { from: 'CDG', to: 'cdg' }))).toMatchObject({
      km: 0,
      from: 'CDG (Paris)',
    });
  });
  it('reports unknown places and bad arguments', async () => {
    expect(await callTool(greatCircleDistance, { from: 'London', to: 'Narnia' })).toMatchObject({ status: 'error' });
    expect(await callTool(greatCircleDistance, { from: 'London' })).toMatchObject({ code: 'invalid_arguments' });
  });
});
