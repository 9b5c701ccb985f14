// @openai/agents-realtime's own event parser (not exported by the package), to count the server events
// the SDK could only treat as generic: an unknown type, or a known type that fails its schema (the SDK
// then silently drops it).
// @ts-expect-error the package's exports map hides this module, so TypeScript finds no declaration for the path
import * as sdkEvents from '../../node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs';

const parse = (sdkEvents as { parseRealtimeEvent(event: { data: string }): { isGeneric: boolean } }).parseRealtimeEvent;

export function sdkCannotParse(event: unknown): boolean {
  return parse({ data: JSON.stringify(event) }).isGeneric;
}
