// What a client's item or response asks the engine to tokenize, in UTF-8 bytes: the measure of the
// per-connection pending-text bound and of the item size bound.

/** Text the model would read from an item: content text and transcripts, function name, arguments and output. */
export function itemTextBytes(item: unknown): number {
  if (item === null || typeof item !== 'object') return 0;
  const it = item as { content?: unknown; arguments?: unknown; output?: unknown; name?: unknown };
  let n = stringBytes(it.arguments) + stringBytes(it.output) + stringBytes(it.name);
  if (Array.isArray(it.content)) {
    for (const part of it.content as ({ text?: unknown; transcript?: unknown } | null)[])
      n += stringBytes(part?.text) + stringBytes(part?.transcript);
  }
  return n;
}

/** A response.create's own text: its instructions and inline input items. */
export function responseTextBytes(params: { instructions?: unknown; input?: unknown } | undefined): number {
  if (!params) return 0;
  let n = stringBytes(params.instructions);
  if (Array.isArray(params.input)) for (const item of params.input) n += itemTextBytes(item);
  return n;
}

export function stringBytes(value: unknown): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : 0;
}
