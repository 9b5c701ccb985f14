// What every OpenAI-compatible route shares: the caller's key (the same Authenticator as the Realtime
// API), an admission slot for the request's duration (the same AdmissionController: a request counts as
// a session while it runs), the engine, error answers in OpenAI's shape, and an AbortSignal that fires
// when the client goes away.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EarshotConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import { EarshotError, isEarshotError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { AdmissionController } from '../transport/admission.ts';
import type { AuthIdentity, Authenticator } from '../transport/auth.ts';
import { requireIdentity, sendError, statusOf } from '../transport/http_routes/http_util.ts';
import type { EarshotMetrics } from '../observability/metrics.ts';
import type { VoiceEngine } from '../tts/select.ts';
import type { VadStream } from '../vad/vad_batcher.ts';
import type { ApiEndpoint, ApiMetrics } from './api_metrics.ts';

export interface OpenAiApiDeps {
  config: EarshotConfig;
  log: Logger;
  auth: Authenticator;
  admission: AdmissionController;
  /** The engine now, or why there is none: read per request (the model may arrive after start-up). */
  engine: () => { engine: SpeechEngine | null; unavailable?: EarshotError };
  /** A stream of the server's shared VAD batcher (uploads are segmented by the same Silero). */
  openVadStream?: () => VadStream;
  metrics?: EarshotMetrics;
  /** The voice engine of POST /v1/audio/speech (tts.engine), or why there is none. */
  voiceEngine?: VoiceEngine;
  /** Filled in by createOpenAiApi. */
  apiMetrics?: ApiMetrics;
}

export interface ApiCall {
  identity: AuthIdentity;
  engine: SpeechEngine;
  /** Aborted when the client disconnects or the admission slot expires. */
  signal: AbortSignal;
}

/** HTTP status of an error raised while serving an API request. */
export function apiStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'E_WAV_INVALID':
    case 'E_WAV_UNSUPPORTED':
    case 'E_UNSUPPORTED_FORMAT':
    case 'E_AUDIO_UNREADABLE':
    case 'E_AUDIO_TOO_LONG':
    case 'E_UNSUPPORTED_FEATURE':
    case 'E_PROMPT_AUDIO_MISMATCH':
    case 'E_CONTEXT_OVERFLOW':
    case 'E_TTS_VOICE':
      return 400;
    case 'E_UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'E_MODEL_MISSING':
    case 'E_MODEL_INVALID':
    case 'E_ENGINE_BUSY':
    case 'E_ENGINE_WORKER_EXITED':
    case 'E_DRAINING':
    case 'E_TTS_UNAVAILABLE':
      return 503;
    case 'E_ENGINE_REMOTE':
    case 'E_TTS_REMOTE':
      return 502;
    default:
      return statusOf(new EarshotError(code));
  }
}

export function sendApiError(res: ServerResponse, err: unknown, log: Logger): void {
  const e = isEarshotError(err) ? err : new EarshotError('E_INTERNAL', 'Internal error.');
  if (!isEarshotError(err)) log.error({ err }, 'openai api request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, apiStatusOf(e.code), e.code, e.message, e.param, e.retryable ? { 'retry-after': '1' } : {});
}

/** Authenticates, admits and runs `handler` with the engine (the speech route, which needs none, uses serveAdmitted). */
export function serveApiCall(
  deps: OpenAiApiDeps,
  endpoint: ApiEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  handler: (call: ApiCall) => Promise<void>,
): Promise<void> {
  return serveAdmitted(deps, endpoint, req, res, async (call) => {
    const { engine, unavailable } = deps.engine();
    if (!engine) throw unavailable ?? new EarshotError('E_MODEL_MISSING', 'No model is loaded.');
    await handler({ ...call, engine });
  });
}

/**
 * Authenticates, admits and runs `handler`; answers every failure with its status and stable code, and
 * releases the admission slot however the request ends.
 */
export async function serveAdmitted(
  deps: OpenAiApiDeps,
  endpoint: ApiEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  handler: (call: Omit<ApiCall, 'engine'>) => Promise<void>,
): Promise<void> {
  const count = (outcome: 'ok' | 'error' | 'aborted') => deps.apiMetrics?.requests.inc({ endpoint, outcome });
  const identity = requireIdentity(deps.auth, req, res);
  if (!identity) {
    req.resume();
    return count('error');
  }
  const abort = new AbortController();
  const decision = deps.admission.admit(identity.keyId, (expiry) =>
    abort.abort(new EarshotError(expiry.code, expiry.message)),
  );
  if (!decision.ok) {
    req.resume();
    sendError(res, decision.httpStatus, decision.code, decision.message, undefined, {
      'retry-after': String(decision.retryAfterS),
    });
    return count('error');
  }
  // The response's close before it finished = the client went away: stop the engine work.
  res.on('close', () => {
    if (!res.writableFinished) abort.abort(new EarshotError('E_ABORTED', 'The client closed the connection.'));
  });
  try {
    await handler({ identity, signal: abort.signal });
    count(abort.signal.aborted ? 'aborted' : 'ok');
  } catch (err) {
    count(abort.signal.aborted ? 'aborted' : 'error');
    if (!abort.signal.aborted || !res.destroyed) sendApiError(res, err, deps.log);
  } finally {
    decision.ticket.release();
  }
}
