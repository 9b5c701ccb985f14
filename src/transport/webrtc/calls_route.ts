import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { sendJson, type HttpRoute } from '../ws_server.ts';
import type { WebRtcConfig } from '../../config/webrtc_schema.ts';
import { checkOffer } from './sdp_offer.ts';
import { WebRtcCall, type OpenCallSession } from './webrtc_call.ts';

export const CALLS_PATH = '/v1/realtime/calls';

export interface WebRtcCallsRouteOptions {
  config: WebRtcConfig;
  log: Logger;
  /**
   * Same decision as for the WebSocket upgrade; false answers 401. A string names the caller's tenant
   * (its API key id): a call belongs to the tenant that created it, and a hang-up from another tenant is
   * answered 404 as for a call that does not exist. `true` (or no authorize) puts every caller in one tenant.
   */
  authorize?: (req: IncomingMessage) => boolean | string | Promise<boolean | string>;
  openSession: OpenCallSession;
}

export interface WebRtcCallsRoute extends HttpRoute {
  /** Hangs up every call and waits for their sockets to close. */
  close(): Promise<void>;
  activeCalls(): number;
  /** The live call, for tests and diagnostics. */
  getCall(callId: string): WebRtcCall | undefined;
  /** Ids of the live calls, oldest first. */
  callIds(): string[];
}

/** The route's live calls and the offers being negotiated (which count against max_calls too). */
interface RouteState {
  opts: WebRtcCallsRouteOptions;
  calls: Map<string, WebRtcCall>;
  /** The tenant that created each live call. */
  owners: Map<string, string>;
  negotiating: number;
  closing: boolean;
}

/**
 * `POST /v1/realtime/calls` (SDP offer in, SDP answer out, as OpenAI's Realtime API), plus hang-up by
 * `DELETE /v1/realtime/calls/{id}` or `POST /v1/realtime/calls/{id}/hangup`. Returns false for any other
 * path so the server's remaining routes get their turn.
 */
export function createWebRtcCallsRoute(opts: WebRtcCallsRouteOptions): WebRtcCallsRoute {
  const state: RouteState = { opts, calls: new Map(), owners: new Map(), negotiating: 0, closing: false };
  const route = ((req: IncomingMessage, res: ServerResponse, url: URL) =>
    handleRequest(state, req, res, url)) as WebRtcCallsRoute;
  route.activeCalls = () => state.calls.size;
  route.getCall = (callId) => state.calls.get(callId);
  route.callIds = () => [...state.calls.keys()];
  route.close = async () => {
    state.closing = true;
    const live = [...state.calls.values()];
    for (const call of live) call.hangUp('server shutting down');
    await Promise.all(live.map((call) => call.closed()));
  };
  return route;
}

async function handleRequest(state: RouteState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const { opts } = state;
  if (!opts.config.enabled) return false;
  const path = url.pathname.replace(/\/+$/, '');
  if (path !== CALLS_PATH && !path.startsWith(`${CALLS_PATH}/`)) return false;
  const decision = opts.authorize ? await opts.authorize(req) : true;
  if (decision === false) {
    sendError(res, 401, 'E_UNAUTHORIZED', 'A valid API key is required: send "Authorization: Bearer <key>".', {
      'www-authenticate': 'Bearer realm="earshot"',
    });
    return true;
  }
  const caller = decision === true ? '' : decision;
  const method = req.method ?? 'GET';
  if (path === CALLS_PATH) {
    if (method === 'POST') await createCall(state, req, res, url, caller);
    else sendError(res, 405, 'E_INVALID_REQUEST', 'Method not allowed; use POST with an SDP offer.', { allow: 'POST' });
    return true;
  }
  const [callId, action, ...rest] = path.slice(CALLS_PATH.length + 1).split('/');
  if (rest.length === 0 && action === undefined && method === 'DELETE') hangUpCall(state, res, callId, caller);
  else if (rest.length === 0 && action === 'hangup' && method === 'POST') hangUpCall(state, res, callId, caller);
  else
    sendError(
      res,
      404,
      'E_NOT_FOUND',
      `No route for ${method} ${url.pathname}; hang up with DELETE ${CALLS_PATH}/{call_id}.`,
    );
  return true;
}

async function createCall(
  state: RouteState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  owner: string,
): Promise<void> {
  if (refuseCreate(state, req, res)) return;
  state.negotiating++;
  let call: WebRtcCall | null = null;
  try {
    const offer = await readOffer(state, req, res);
    if (offer === null) return;
    call = newCall(state, req, url);
    const answer = await negotiate(state, call, offer, res);
    if (answer === null || !startCall(state, call, res, owner)) return;
    res.writeHead(201, {
      'content-type': 'application/sdp',
      'content-length': Buffer.byteLength(answer),
      location: `${CALLS_PATH}/${call.id}`,
      'cache-control': 'no-store',
    });
    res.end(answer);
  } catch (err) {
    call?.hangUp('internal error');
    throw err;
  } finally {
    state.negotiating--;
  }
}

/** Answers 415 (not an SDP body) or 503 (at max_calls, or shutting down); true when it did. */
function refuseCreate(state: RouteState, req: IncomingMessage, res: ServerResponse): boolean {
  const { config } = state.opts;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/sdp') {
    const got = mediaType === '' ? 'no Content-Type' : `Content-Type ${mediaType}`;
    sendError(
      res,
      415,
      'E_UNSUPPORTED_MEDIA_TYPE',
      `The offer must be sent as Content-Type: application/sdp (got ${got}).`,
    );
    return true;
  }
  if (state.closing || state.calls.size + state.negotiating >= config.max_calls) {
    sendError(res, 503, 'E_CAPACITY', `The server is at its limit of ${config.max_calls} WebRTC calls; retry later.`, {
      'retry-after': '5',
    });
    return true;
  }
  return false;
}

/** The checked SDP offer, or null once the request has been answered (408, 413, 400) or abandoned. */
async function readOffer(state: RouteState, req: IncomingMessage, res: ServerResponse): Promise<string | null> {
  const { config, log } = state.opts;
  let body: string | null;
  try {
    body = await readBody(req, config.max_offer_bytes, config.offer_read_timeout_ms);
  } catch (err) {
    if (err === READ_TIMED_OUT) {
      sendError(
        res,
        408,
        'E_REQUEST_TIMEOUT',
        `The SDP offer was not received within ${config.offer_read_timeout_ms} ms.`,
        { connection: 'close' },
      );
      return null;
    }
    // The client went away mid-upload (the only way the request stream errors): nobody is left to
    // answer, and it is not a server failure to log as one.
    log.debug({ err }, 'webrtc offer upload aborted');
    res.destroy();
    return null;
  }
  if (body === null) {
    sendError(res, 413, 'E_PAYLOAD_TOO_LARGE', `The SDP offer exceeds ${config.max_offer_bytes} bytes.`, {
      connection: 'close',
    });
    return null;
  }
  const check = checkOffer(body);
  if (!check.ok) {
    sendError(res, 400, 'E_SDP_INVALID', check.message);
    return null;
  }
  return body;
}

function newCall(state: RouteState, req: IncomingMessage, url: URL): WebRtcCall {
  const { opts, calls, owners } = state;
  return new WebRtcCall({
    info: { url, headers: req.headers, callId: newCallId() },
    config: opts.config,
    log: opts.log,
    openSession: opts.openSession,
    onEnded: (id) => {
      calls.delete(id);
      owners.delete(id);
    },
  });
}

/** The answer SDP, or null once the request has been answered with 400 (the call is then hung up). */
async function negotiate(
  state: RouteState,
  call: WebRtcCall,
  offer: string,
  res: ServerResponse,
): Promise<string | null> {
  try {
    return await call.answer(offer);
  } catch (err) {
    state.opts.log.info({ err, callId: call.id }, 'webrtc offer could not be negotiated');
    call.hangUp('negotiation failed');
    sendError(res, 400, 'E_SDP_INVALID', negotiationFailure(err));
    return null;
  }
}

/** Opens the call's session and registers the call; false once the request has been answered (503, 500). */
function startCall(state: RouteState, call: WebRtcCall, res: ServerResponse, owner: string): boolean {
  if (state.closing) {
    call.hangUp('server shutting down');
    sendError(res, 503, 'E_CAPACITY', 'The server is shutting down.');
    return false;
  }
  try {
    call.start();
  } catch (err) {
    state.opts.log.error({ err, callId: call.id }, 'failed to open a session for a webrtc call');
    call.hangUp('session could not be created');
    sendError(res, 500, 'E_INTERNAL', 'The session could not be created.');
    return false;
  }
  if (!call.isEnded) {
    // The session may have closed the call while opening.
    state.calls.set(call.id, call);
    state.owners.set(call.id, owner);
  }
  return true;
}

function hangUpCall(state: RouteState, res: ServerResponse, callId: string, caller: string): void {
  const call = state.calls.get(callId);
  if (!call || state.owners.get(callId) !== caller)
    return sendError(res, 404, 'E_NOT_FOUND', `No active call ${callId.slice(0, 64)}.`);
  call.hangUp('hung up by the client');
  sendJson(res, 200, { id: callId, object: 'realtime.call', status: 'ended' });
}

/** Same shape as OpenAI's call ids (`rtc_` + hex), unguessable since it addresses a live call. */
function newCallId(): string {
  return `rtc_${randomBytes(16).toString('hex')}`;
}

const READ_TIMED_OUT = Symbol('offer read timed out');

/**
 * The body as UTF-8 text, or null once it exceeds maxBytes (checked while reading, never buffered whole);
 * rejects with READ_TIMED_OUT when it has not all arrived within timeoutMs.
 */
function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  return new Promise<string | null>((resolve, reject) => {
    timer = setTimeout(() => {
      req.off('data', onData);
      req.off('end', onEnd);
      reject(READ_TIMED_OUT);
    }, timeoutMs);
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
      req.resume(); // discard it; the 413 is answered right away
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      resolve(null);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  }).finally(() => clearTimeout(timer));
}

/**
 * The client's message when werift rejects an offer checkOffer let through. werift's own errors name what
 * it could not negotiate ("negotiate codecs failed.", "mid not assigned"); a JavaScript runtime error from
 * inside it (a TypeError on an inconsistent offer, found by fuzzing) only leaks internals, so it gets a hint
 * instead; the log keeps the original.
 */
function negotiationFailure(err: unknown): string {
  const runtimeError =
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof ReferenceError ||
    err instanceof SyntaxError;
  const detail = err instanceof Error ? err.message : String(err);
  if (runtimeError || detail.trim() === '') {
    return 'The SDP offer could not be negotiated: its media sections are inconsistent (check a=mid, a=group:BUNDLE, ICE credentials, a=fingerprint and a=sctp-port in each section).';
  }
  return `The SDP offer could not be negotiated: ${detail.slice(0, 200)}`;
}

/** OpenAI-style error body (`error.type/code/message/param`), as the rest of the HTTP API answers. */
function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJson(res, status, {
    error: { type: status >= 500 ? 'server_error' : 'invalid_request_error', code, message, param: null },
  });
}
