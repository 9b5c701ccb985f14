import { describe, expect, it } from 'vitest';
import { convertUnits } from '../../../tools/convert_units.ts';
import { callTool, okResult } from './tool_harness.ts';

describe('convert_units', () => {
  it('converts length, mass, temperature and speed', async () => {
    expect(okResult(await callTool(convertUnits, { value: 5, from: 'mi', to: 'km' }))).toMatchObject({
      result: 8.04672,
    });
    expect(okResult(await callTool(convertUnits, { value: 1, from: 'kg', to: 'pounds' }))).toMatchObject({
      result: 2.204622622,
    });
    expect(okResult(await callTool(convertUnits, { value: 212, from: 'F', to: 'C' }))).toMatchObject({ result: 100 });
    expect(okResult(await callTool(convertUnits, { value: 100, from: 'km/h', to: 'mph' }))).toMatchObject({
      result: 62.13711922,
    });
  });
  it('refuses unknown units, mixed dimensions and bad values', async () => {
    expect(await callTool(convertUnits, { value: 1, from: 'kg', to: 'km' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('cannot convert mass'),
    });
    expect(await callTool(convertUnits, { value: 1, from: 'parsec', to: 'km' })).toMatchObject({
      status: 'error',
      error: expect.stringContaining('unknown unit'),
    });
    expect(await callTool(convertUnits, { value: '1', from: 'm', to: 'km' })).toMatchObject({
      code: 'invalid_arguments',
    });
  });
});
