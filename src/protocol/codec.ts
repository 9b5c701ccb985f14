// Text frame <-> event. decodeClientEvent is the single edge where untrusted client text becomes a
// typed ClientEvent; it never throws, and every failure carries a stable code from src/errors.ts so the
// session can answer with an `error` event and keep the connection open.
import type { ErrorCode } from '../errors.ts';
import { parseFastAppendEvent } from './append_fast_path.ts';
import { CLIENT_EVENT_SCHEMAS, MAX_CLIENT_EVENT_ID_CHARS, type ClientEvent } from './client_events.ts';
import { errorEvent, type ServerEvent, type ServerEventOf } from './server_events.ts';

export type DecodeFailure = { ok: false; code: ErrorCode; message: string; param?: string; clientEventId?: string };
export type DecodeResult = { ok: true; event: ClientEvent } | DecodeFailure;

/** At most this many issues are listed in one error message; the rest are counted. */
const MAX_LISTED_ISSUES = 8;
/** Client-controlled text quoted in messages (an unknown type, a JSON error) is cut to this length. */
const MAX_QUOTED_CHARS = 80;
/**
 * Deepest array/object nesting accepted. JSON.parse copes with 50,000 levels, but loose schemas pass
 * unknown fields through, and a later JSON.stringify or logger walking them recursively would overflow
 * the stack. Real events nest about 8 levels; tool parameter schemas rarely exceed 20.
 */
export const MAX_EVENT_DEPTH = 64;

interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

export function decodeClientEvent(text: string): DecodeResult {
  try {
    return decodeUnchecked(text);
  } catch (error) {
    // Nothing above is expected to throw (JSON.parse and safeParse are guarded); this is the backstop
    // that keeps a zod or engine bug from closing a client's connection.
    return {
      ok: false,
      code: 'E_INVALID_EVENT',
      message: `The event could not be validated: ${quote(errorMessage(error))}`,
    };
  }
}

function decodeUnchecked(text: string): DecodeResult {
  if (typeof text !== 'string') {
    return { ok: false, code: 'E_INVALID_JSON', message: 'A client event must be a JSON text message.' };
  }
  // Audio appends in their usual form skip JSON.parse and zod (append_fast_path.ts says why).
  const append = parseFastAppendEvent(text);
  if (append !== null) return { ok: true, event: append };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      code: 'E_INVALID_JSON',
      message: `The message is not valid JSON: ${quote(errorMessage(error))}`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      code: 'E_INVALID_EVENT',
      message: `A client event must be a JSON object, got ${describe(value)}.`,
    };
  }
  const record = value as Record<string, unknown>;
  const rawEventId = Object.hasOwn(record, 'event_id') ? record.event_id : undefined;
  const clientEventId =
    typeof rawEventId === 'string' && rawEventId.length <= MAX_CLIENT_EVENT_ID_CHARS ? rawEventId : undefined;
  const failure = (code: ErrorCode, message: string, param?: string): DecodeFailure => ({
    ok: false,
    code,
    message,
    ...(param === undefined ? {} : { param }),
    ...(clientEventId === undefined ? {} : { clientEventId }),
  });

  if (exceedsDepth(record, MAX_EVENT_DEPTH)) {
    return failure('E_INVALID_EVENT', `The event nests arrays or objects deeper than ${MAX_EVENT_DEPTH} levels.`);
  }
  const type = Object.hasOwn(record, 'type') ? record.type : undefined;
  if (typeof type !== 'string') {
    return failure('E_INVALID_EVENT', `A client event needs a string 'type', got ${describe(type)}.`, 'type');
  }
  const schema = CLIENT_EVENT_SCHEMAS.get(type);
  if (schema === undefined) {
    return failure('E_UNKNOWN_EVENT', `Unknown client event type ${quote(type)}.`, 'type');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const firstPath = formatPath(issues[0]?.path ?? []);
    return failure('E_INVALID_EVENT', `Invalid '${type}' event: ${formatIssues(issues)}`, firstPath || undefined);
  }
  return { ok: true, event: parsed.data };
}

/** Iterative (an explicit stack), so measuring a hostile depth cannot itself overflow the call stack. */
export function exceedsDepth(root: object, maxDepth: number): boolean {
  const stack: Array<{ value: object; depth: number }> = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/** Path segments come from client JSON keys (e.g. in `metadata`), so each is cut to this length. */
const MAX_PATH_KEY_CHARS = 64;

/** 'session.tools[0].name' from ['session', 'tools', 0, 'name']; '' for the event itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      continue;
    }
    const name = String(key);
    const cut = name.length > MAX_PATH_KEY_CHARS ? `${name.slice(0, MAX_PATH_KEY_CHARS)}…` : name;
    out += out === '' ? cut : `.${cut}`;
  }
  return out;
}

function formatIssues(issues: readonly IssueLike[]): string {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${formatPath(issue.path) || '(event)'}: ${issue.message}`);
  const more = issues.length - listed.length;
  return listed.join('; ') + (more > 0 ? `; and ${more} more issue${more === 1 ? '' : 's'}` : '') + '.';
}

function quote(text: string): string {
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(cut);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `error` event answering a failed decode, echoing the client's event_id when there was one. */
export function decodeErrorEvent(failure: DecodeFailure): ServerEventOf<'error'> {
  return errorEvent(failure.code, failure.message, { param: failure.param, clientEventId: failure.clientEventId });
}

export function encodeServerEvent(event: ServerEvent): string {
  return JSON.stringify(event);
}
