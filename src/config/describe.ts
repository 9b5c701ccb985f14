import { z } from 'zod';
import { configSchema, defaultConfig } from './schema.ts';

// Every option of the one config schema, described for people: `earshot config --schema` prints these, and
// `--schema --json` the JSON Schema itself (zod writes it from the same schema, descriptions and defaults
// included), so the docs can never drift from what the server accepts.

export interface OptionDescription {
  /** `section.key`, as in a config file. */
  path: string;
  /** The environment variable that sets it. */
  env: string;
  type: string;
  default: unknown;
  description: string;
}

type JsonSchemaNode = {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
  properties?: Record<string, JsonSchemaNode>;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

/** Bounds people can read: zod writes "any integer" as +-2^53, which says nothing. */
const meaningful = (n: number | undefined) =>
  n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined;

/** The config's JSON Schema (draft 2020-12), as accepted on input (defaults filled in by the server). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' | ');
  if (node.type === 'array') return `${node.items ? typeOf(node.items) : 'any'}[]`;
  const base = Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any');
  const min = meaningful(node.minimum);
  const max = meaningful(node.maximum);
  const bounds = [
    node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : min !== undefined ? `>= ${min}` : null,
    max !== undefined ? `<= ${max}` : null,
  ].filter(Boolean);
  return bounds.length > 0 ? `${base}, ${bounds.join(', ')}` : base;
}

/** One entry per option, in schema order, with the default the server uses when it is unset. */
export function describeOptions(): OptionDescription[] {
  const schema = configJsonSchema() as JsonSchemaNode;
  const defaults = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  const out: OptionDescription[] = [];
  for (const [section, sectionNode] of Object.entries(schema.properties ?? {})) {
    for (const [key, node] of Object.entries(sectionNode.properties ?? {})) {
      out.push({
        path: `${section}.${key}`,
        env: `EARSHOT_${section}_${key}`.toUpperCase(),
        type: typeOf(node),
        default: defaults[section]?.[key],
        description: node.description ?? '',
      });
    }
  }
  return out;
}

/** The options as text: one block per option, wrapped for a terminal. */
export function formatOptions(options: OptionDescription[], widthChars = 100): string {
  const wrap = (text: string, indent: string) => {
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(/\s+/).filter(Boolean)) {
      if (line !== '' && indent.length + line.length + 1 + word.length > widthChars) {
        lines.push(indent + line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(indent + line);
    return lines.join('\n');
  };
  return (
    options
      .map((o) => {
        const shown = o.default === undefined ? 'unset' : JSON.stringify(o.default);
        return `${o.path}  (${o.type}; default ${shown}; env ${o.env})\n${wrap(o.description, '    ')}`;
      })
      .join('\n\n') + '\n'
  );
}
