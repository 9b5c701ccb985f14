import { z } from 'zod';
import { defineTool } from '../src/agent/tool.ts';

// Factors to the SI base unit of each dimension; temperatures are affine and handled apart.
const LINEAR: Record<string, { dimension: string; factor: number }> = {
  m: { dimension: 'length', factor: 1 },
  km: { dimension: 'length', factor: 1000 },
  cm: { dimension: 'length', factor: 0.01 },
  mm: { dimension: 'length', factor: 0.001 },
  mi: { dimension: 'length', factor: 1609.344 },
  ft: { dimension: 'length', factor: 0.3048 },
  in: { dimension: 'length', factor: 0.0254 },
  yd: { dimension: 'length', factor: 0.9144 },
  kg: { dimension: 'mass', factor: 1 },
  g: { dimension: 'mass', factor: 0.001 },
  lb: { dimension: 'mass', factor: 0.45359237 },
  oz: { dimension: 'mass', factor: 0.028349523125 },
  l: { dimension: 'volume', factor: 1 },
  ml: { dimension: 'volume', factor: 0.001 },
  gal: { dimension: 'volume', factor: 3.785411784 },
  'm/s': { dimension: 'speed', factor: 1 },
  'km/h': { dimension: 'speed', factor: 1 / 3.6 },
  mph: { dimension: 'speed', factor: 0.44704 },
};
const TEMPERATURE: Record<string, { toK: (v: number) => number; fromK: (k: number) => number }> = {
  c: { toK: (v) => v + 273.15, fromK: (k) => k - 273.15 },
  f: { toK: (v) => ((v - 32) * 5) / 9 + 273.15, fromK: (k) => ((k - 273.15) * 9) / 5 + 32 },
  k: { toK: (v) => v, fromK: (k) => k },
};
const ALIASES: Record<string, string> = {
  meter: 'm',
  meters: 'm',
  metre: 'm',
  kilometer: 'km',
  kilometers: 'km',
  mile: 'mi',
  miles: 'mi',
  foot: 'ft',
  feet: 'ft',
  inch: 'in',
  inches: 'in',
  kilogram: 'kg',
  kilograms: 'kg',
  gram: 'g',
  grams: 'g',
  pound: 'lb',
  pounds: 'lb',
  lbs: 'lb',
  ounce: 'oz',
  ounces: 'oz',
  liter: 'l',
  litre: 'l',
  liters: 'l',
  gallon: 'gal',
  gallons: 'gal',
  kph: 'km/h',
  celsius: 'c',
  fahrenheit: 'f',
  kelvin: 'k',
  '°c': 'c',
  '°f': 'f',
};

export const UNIT_NAMES = [...Object.keys(LINEAR), 'C', 'F', 'K'];

function normalise(unit: string): string {
  const u = unit.trim().toLowerCase();
  return ALIASES[u] ?? u;
}

export function convert(value: number, from: string, to: string): number {
  const f = normalise(from);
  const t = normalise(to);
  if (TEMPERATURE[f] && TEMPERATURE[t]) return TEMPERATURE[t].fromK(TEMPERATURE[f].toK(value));
  const a = LINEAR[f];
  const b = LINEAR[t];
  if (!a) throw new Error(`unknown unit "${from}"; known: ${UNIT_NAMES.join(', ')}`);
  if (!b) throw new Error(`unknown unit "${to}"; known: ${UNIT_NAMES.join(', ')}`);
  if (a.dimension !== b.dimension) throw new Error(`cannot convert ${a.dimension} (${from}) to ${b.dimension} (${to})`);
  return (value * a.factor) / b.factor;
}

export const convertUnits = defineTool({
  name: 'convert_units',
  description:
    'Converts a quantity between units of length, mass, volume, speed or temperature (e.g. 5 mi to km, 70 F to C).',
  parameters: z.object({
    value: z.number().describe('the quantity'),
    from: z.string().min(1).describe('unit to convert from, e.g. mi, kg, F'),
    to: z.string().min(1).describe('unit to convert to, e.g. km, lb, C'),
  }),
  execute: ({ value, from, to }) => ({ value, from, to, result: Number(convert(value, from, to).toPrecision(10)) }),
});
