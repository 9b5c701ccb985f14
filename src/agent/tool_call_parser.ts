// Tolerant parsing of Phi-4's tool calls (docs/model.md, "Tokens and prompts"; the output form is not officially
// specified, so every form seen in the wild is accepted):
//   <|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>    (the expected form)
//   <|tool_call|>{"name": ..., "arguments": {...}}<|/tool_call|>      (a single object)
//   "parameters" instead of "arguments"; arguments as a JSON string (OpenAI style)
//   functools[{"name": ...}]                                           (a functools prefix)
//   [{"name": ...}]                                                    (a bare JSON list as the whole answer)
// A missing closing tag (the turn ended first) and truncated JSON are repaired where possible; what
// cannot be read becomes a malformed call, answered with an error result so the model can recover.

export type ParsedToolCall =
  | { ok: true; name: string; arguments: Record<string, unknown>; raw: string }
  | { ok: false; name: string | null; raw: string; error: string };

export interface ParsedAnswer {
  /** The answer's text outside the call markup (what the user is told). */
  text: string;
  calls: ParsedToolCall[];
}

const OPEN_TAG = '<|tool_call|>';
const CLOSE_TAG = '<|/tool_call|>';
const FUNCTOOLS = 'functools';
const MARKERS = [OPEN_TAG, `${FUNCTOOLS}[`];
const BARE_START = /^\s*(\[\s*\{|\{\s*"name")/;

/** Index where call markup starts in `text`, or -1. */
export function findCallStart(text: string): number {
  let best = -1;
  for (const marker of MARKERS) {
    const i = text.indexOf(marker);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  if (best < 0 && BARE_START.test(text)) return text.search(/\S/);
  return best;
}

export function parseToolCalls(answer: string): ParsedAnswer {
  const start = findCallStart(answer);
  if (start < 0) return { text: answer, calls: [] };
  const text = answer.slice(0, start).trimEnd();
  const calls: ParsedToolCall[] = [];
  let rest = answer.slice(start);
  while (rest.length > 0) {
    let body: string;
    if (rest.startsWith(OPEN_TAG)) {
      const close = rest.indexOf(CLOSE_TAG);
      body = close >= 0 ? rest.slice(OPEN_TAG.length, close) : rest.slice(OPEN_TAG.length);
      rest = close >= 0 ? rest.slice(close + CLOSE_TAG.length) : '';
    } else if (rest.startsWith(FUNCTOOLS)) {
      const end = jsonEnd(rest, FUNCTOOLS.length);
      body = rest.slice(FUNCTOOLS.length, end);
      rest = rest.slice(end);
    } else {
      const end = jsonEnd(rest, 0);
      body = rest.slice(0, end);
      rest = rest.slice(end);
    }
    calls.push(...parseCallBody(body));
    const next = findCallStart(rest);
    // Text after the markup is dropped: the model speaks again after the tool results.
    rest = next < 0 ? '' : rest.slice(next);
  }
  return { text, calls };
}

/** End index of the JSON value starting at `from` (or the string's end when it never closes). */
function jsonEnd(s: string, from: number): number {
  let depth = 0;
  let inString = false;
  let i = s.slice(from).search(/\S/);
  if (i < 0) return s.length;
  i += from;
  for (; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth <= 0) return i + 1;
    }
  }
  return s.length;
}

function parseCallBody(body: string): ParsedToolCall[] {
  const raw = body.trim();
  if (raw === '') return [{ ok: false, name: null, raw, error: 'empty tool call' }];
  const value = parseLenientJson(raw);
  if (value === undefined) return [{ ok: false, name: guessName(raw), raw, error: 'the tool call is not valid JSON' }];
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return [{ ok: false, name: null, raw, error: 'empty tool call list' }];
  return list.map((entry) => toCall(entry, raw));
}

function toCall(entry: unknown, raw: string): ParsedToolCall {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return { ok: false, name: null, raw, error: 'a tool call must be an object with "name" and "arguments"' };
  }
  const record = entry as Record<string, unknown>;
  const fn =
    record.function !== null && typeof record.function === 'object'
      ? (record.function as Record<string, unknown>)
      : record;
  const name = fn.name;
  if (typeof name !== 'string' || name === '')
    return { ok: false, name: null, raw, error: 'the tool call has no "name"' };
  let args: unknown = fn.arguments ?? fn.parameters ?? fn.args ?? {};
  if (typeof args === 'string') {
    const parsed = args.trim() === '' ? {} : parseLenientJson(args);
    if (parsed === undefined) return { ok: false, name, raw, error: 'the arguments are not valid JSON' };
    args = parsed;
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    return { ok: false, name, raw, error: 'the arguments must be a JSON object' };
  }
  return { ok: true, name, arguments: args as Record<string, unknown>, raw };
}

function guessName(raw: string): string | null {
  const m = /"name"\s*:\s*"([^"]+)"/.exec(raw);
  return m ? m[1] : null;
}

/** JSON.parse, then a repair of truncated JSON (unclosed strings and brackets, trailing commas). */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const repaired = repairJson(text);
    if (repaired === null) return undefined;
    try {
      return JSON.parse(repaired);
    } catch {
      return undefined;
    }
  }
}

function repairJson(text: string): string | null {
  const stack: string[] = [];
  let inString = false;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    out += c;
    if (inString) {
      if (c === '\\') {
        if (i + 1 < text.length) out += text[++i];
      } else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return null;
      if (stack.length === 0) return out;
    }
  }
  if (inString) out += '"';
  // A dangling `"key"` or `"key":` or trailing comma cannot be closed into valid JSON: drop it.
  out = out.replace(/,\s*$/, '');
  if (stack.at(-1) === '}') out = out.replace(/([{,])\s*"[^"]*"\s*:?\s*$/, '$1');
  out = out.replace(/,\s*$/, '');
  return out + stack.reverse().join('');
}

/**
 * Streams an answer's text while holding back anything that may be tool-call markup, so clients never see
 * `<|tool_call|>` or a half-written JSON call as spoken text.
 */
export class ToolCallTextFilter {
  private buffer = '';
  private emitted = 0;
  private callStarted = false;

  /** Text that is certainly part of the answer. */
  push(delta: string): string {
    this.buffer += delta;
    if (this.callStarted) return '';
    const start = findCallStart(this.buffer);
    if (start >= 0) {
      this.callStarted = true;
      return this.take(this.buffer.slice(0, start).trimEnd().length);
    }
    // An answer that so far is only whitespace and an opening bracket may be a bare JSON call.
    if (/^\s*[[{]/.test(this.buffer) || /^\s*$/.test(this.buffer)) return '';
    // Trailing whitespace waits for what follows: before a call it is dropped, so `text.done` has none.
    const trimmed = this.buffer.trimEnd();
    return this.take(trimmed.slice(0, trimmed.length - heldSuffixLength(trimmed)).trimEnd().length);
  }

  /** The rest of the text once the answer is complete, given its final parse. */
  finish(parsed: ParsedAnswer): string {
    return parsed.text.length > this.emitted ? parsed.text.slice(this.emitted) : '';
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const out = this.buffer.slice(this.emitted, end);
    this.emitted = end;
    return out;
  }
}

/** Length of the longest suffix of `s` that is a proper prefix of a marker. */
function heldSuffixLength(s: string): number {
  let best = 0;
  for (const marker of MARKERS) {
    for (let n = Math.min(marker.length - 1, s.length); n > best; n--) {
      if (s.endsWith(marker.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}
