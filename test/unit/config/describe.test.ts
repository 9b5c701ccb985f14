// `earshot config --schema` describes every option of the one schema, with the default the server uses.
import { describe, expect, it } from 'vitest';
import { configJsonSchema, describeOptions, formatOptions } from '../../../src/config/describe.ts';
import { envNames } from '../../../src/config/load.ts';
import { defaultConfig } from '../../../src/config/schema.ts';

describe('config description', () => {
  const options = describeOptions();

  it('lists every leaf of the default config once, each with a description', () => {
    const leaves = Object.entries(defaultConfig()).flatMap(([section, values]) =>
      Object.keys(values as object).map((key) => `${section}.${key}`),
    );
    const described = options.map((o) => o.path);
    for (const leaf of leaves) expect(described).toContain(leaf);
    expect(new Set(described).size).toBe(described.length);
    for (const o of options) expect(o.description, o.path).not.toBe('');
  });

  it('gives the defaults the server applies and environment names the loader reads', () => {
    const env = envNames();
    const port = options.find((o) => o.path === 'server.port')!;
    expect(port.default).toBe(defaultConfig().server.port);
    expect(port.type).toBe('integer, >= 0, <= 65535');
    for (const o of options) expect(env.get(o.env), o.env).toEqual(o.path.split('.'));
  });

  it('prints text that names each option and a JSON Schema with descriptions', () => {
    const text = formatOptions(options);
    for (const o of options) expect(text).toContain(`${o.path}  (`);
    const schema = configJsonSchema() as {
      properties: Record<string, { properties: Record<string, { description?: string }> }>;
    };
    expect(schema.properties.vad.properties.threshold.description).toMatch(/Silero/);
  });
});
