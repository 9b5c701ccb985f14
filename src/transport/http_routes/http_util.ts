import type { IncomingMessage, ServerResponse } from 'node:http';
import { EarshotError, type ErrorCode } from '../../errors.ts';
import type { AuthDecision, AuthIdentity, Authenticator } from '../auth.ts';
import { sendJson } from '../ws_server.ts';

/** OpenAI-style error body: clients of the openai package read `error.message` / `error.code`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  param?: string,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, {
    error: { type: status >= 500 ? 'server_error' : 'invalid_request_error', code, message, param: param ?? null },
  });
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Answers a refused auth decision (401 with WWW-Authenticate, or 403). */
export function sendAuthFailure(res: ServerResponse, decision: Extract<AuthDecision, { ok: false }>): void {
  sendError(
    res,
    decision.status,
    decision.code,
    decision.message,
    undefined,
    decision.status === 401 ? { 'www-authenticate': 'Bearer realm="earshot"' } : {},
  );
}

/** The caller's identity, or null after answering 401/403. */
export function requireIdentity(
  auth: Authenticator,
  req: IncomingMessage,
  res: ServerResponse,
  opts: { allowEphemeral?: boolean } = {},
): AuthIdentity | null {
  const decision = auth.authorizeRequest(req, opts);
  if (decision.ok) return decision.identity;
  sendAuthFailure(res, decision);
  return null;
}

export function methodNotAllowed(res: ServerResponse, allowed: string): void {
  sendError(res, 405, 'E_INVALID_REQUEST', `Method not allowed; use ${allowed}.`, undefined, { allow: allowed });
}

/**
 * Reads a JSON body of at most maxBytes (the limit is checked while reading, so an oversized body is never
 * buffered whole). An empty body reads as {}. Throws E_PAYLOAD_TOO_LARGE or E_INVALID_REQUEST.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new EarshotError('E_PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBytes} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new EarshotError('E_PAYLOAD_TOO_LARGE', `The request body exceeds ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EarshotError('E_INVALID_REQUEST', 'The request body is not valid JSON.');
  }
}

/** Maps an EarshotError from a handler to its HTTP status. */
export function statusOf(err: EarshotError): number {
  switch (err.code) {
    case 'E_PAYLOAD_TOO_LARGE':
    case 'E_TEXT_TOO_LARGE':
      return 413;
    case 'E_INVALID_REQUEST':
    case 'E_INVALID_JSON':
    case 'E_INVALID_EVENT':
    case 'E_UNKNOWN_EVENT':
    case 'E_UNSUPPORTED_FEATURE':
    case 'E_UNSUPPORTED_FORMAT':
    case 'E_AGENT_UNKNOWN':
      return 400;
    case 'E_UNAUTHORIZED':
      return 401;
    case 'E_NOT_FOUND':
      return 404;
    case 'E_CAPACITY':
    case 'E_KEY_CAPACITY':
    case 'E_EPHEMERAL_KEY_QUOTA':
      return 429;
    case 'E_STORE':
    case 'E_OVERLOADED':
      return 503;
    default:
      return 500;
  }
}

/** Runs a handler, answering an EarshotError with its status and code (other errors reach the server's 500). */
export async function withErrors(res: ServerResponse, handler: () => Promise<void> | void): Promise<void> {
  try {
    await handler();
  } catch (err) {
    if (!(err instanceof EarshotError) || res.headersSent) throw err;
    sendError(res, statusOf(err), err.code, err.message, err.param);
  }
}
