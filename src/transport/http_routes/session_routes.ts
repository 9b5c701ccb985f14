import type { ServerResponse } from 'node:http';
import { EarshotError } from '../../errors.ts';
import { toPlainText, toSrt, toWebVtt, type Cue } from '../../protocol/subtitle_formats.ts';
import type { TranscriptStore } from '../../store/transcript_store.ts';
import type { ResponseRecord, SessionRecord, ToolCallRecord, UtteranceRecord } from '../../store/store_types.ts';
import { ANONYMOUS_KEY_ID, type AuthIdentity, type Authenticator } from '../auth.ts';
import { sendJson, type HttpRoute } from '../ws_server.ts';
import { methodNotAllowed, requireIdentity, sendText, withErrors } from './http_util.ts';

const SESSIONS_PATH = /^\/v1\/sessions(?:\/([A-Za-z0-9_-]{1,128})(\/transcript)?)?\/?$/;
export const TRANSCRIPT_FORMATS = ['json', 'vtt', 'srt', 'txt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

const CONTENT_TYPES: Record<Exclude<TranscriptFormat, 'json'>, string> = {
  vtt: 'text/vtt; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

/**
 * GET /v1/sessions[?limit=&after=], GET /v1/sessions/{id}, GET /v1/sessions/{id}/transcript?format=json|vtt|srt|txt[&track=transcript|translation].
 * With API keys configured each key sees only its own sessions (ephemeral keys see none: they are for
 * starting a session); another key's session answers 404, never 403, so ids cannot be probed.
 */
export function createSessionRoutes(opts: { store: TranscriptStore; auth: Authenticator }): HttpRoute {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/v1/sessions')) return false;
    const match = SESSIONS_PATH.exec(url.pathname);
    if (!match) return false;
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET');
      return true;
    }
    const identity = requireIdentity(opts.auth, req, res);
    if (!identity) return true;
    const [, id, transcript] = match;
    await withErrors(res, () => {
      if (!id) return listSessions(opts.store, identity, url, res);
      const session = opts.store.getSession(id);
      if (!session || !visibleTo(session, identity)) throw new EarshotError('E_NOT_FOUND', `No session ${id}.`);
      if (transcript) return sendTranscript(opts.store, session, url, res);
      const detail = opts.store.getSessionDetail(id);
      if (!detail) throw new EarshotError('E_NOT_FOUND', `No session ${id}.`);
      sendJson(res, 200, {
        ...sessionJson(detail),
        utterances: detail.utterances.map(utteranceJson),
        responses: detail.responses.map(responseJson),
        tool_calls: detail.toolCalls.map(toolCallJson),
      });
    });
    return true;
  };
}

function scopeOf(identity: AuthIdentity): string | undefined {
  return identity.kind === 'anonymous' ? undefined : identity.keyId;
}

function visibleTo(session: SessionRecord, identity: AuthIdentity): boolean {
  const scope = scopeOf(identity);
  return scope === undefined || session.keyId === scope;
}

function listSessions(store: TranscriptStore, identity: AuthIdentity, url: URL, res: ServerResponse): void {
  const limitParam = url.searchParams.get('limit');
  let limit = 20;
  if (limitParam !== null) {
    if (!/^\d{1,3}$/.test(limitParam) || Number(limitParam) < 1 || Number(limitParam) > 100) {
      throw new EarshotError('E_INVALID_REQUEST', 'limit must be an integer from 1 to 100.', { param: 'limit' });
    }
    limit = Number(limitParam);
  }
  const after = url.searchParams.get('after') ?? undefined;
  if (after !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(after)) {
    throw new EarshotError('E_INVALID_REQUEST', 'after must be a session id.', { param: 'after' });
  }
  const page = store.listSessions({ keyId: scopeOf(identity), limit, after });
  const data = page.sessions.map(sessionJson);
  sendJson(res, 200, {
    object: 'list',
    data,
    has_more: page.hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  });
}

function sendTranscript(store: TranscriptStore, session: SessionRecord, url: URL, res: ServerResponse): void {
  const format = (url.searchParams.get('format') ?? 'json') as TranscriptFormat;
  if (!TRANSCRIPT_FORMATS.includes(format)) {
    throw new EarshotError('E_INVALID_REQUEST', `format must be one of ${TRANSCRIPT_FORMATS.join(', ')}.`, {
      param: 'format',
    });
  }
  const track = url.searchParams.get('track') ?? 'transcript';
  if (track !== 'transcript' && track !== 'translation') {
    throw new EarshotError('E_INVALID_REQUEST', 'track must be transcript or translation.', { param: 'track' });
  }
  const utterances = store.getUtterances(session.id);
  if (format === 'json') {
    sendJson(res, 200, {
      session_id: session.id,
      utterances: utterances.map((u) => ({
        item_id: u.itemId,
        start_ms: u.startMs,
        end_ms: u.endMs,
        transcript: u.transcript,
        translation: u.translation,
        language: u.language,
        transcription_error: transcriptionErrorJson(u.transcriptionError),
      })),
    });
    return;
  }
  const cues = transcriptCues(utterances, track);
  const body = format === 'vtt' ? toWebVtt(cues) : format === 'srt' ? toSrt(cues) : toPlainText(cues);
  sendText(res, 200, CONTENT_TYPES[format], body);
}

/** Cues from utterances that have text on the chosen track (pending or failed ones are left out). */
export function transcriptCues(
  utterances: readonly UtteranceRecord[],
  track: 'transcript' | 'translation' = 'transcript',
): Cue[] {
  const cues: Cue[] = [];
  for (const u of utterances) {
    const text = track === 'transcript' ? u.transcript : u.translation;
    if (text) cues.push({ startMs: u.startMs, endMs: u.endMs, text });
  }
  return cues;
}

export function sessionJson(s: SessionRecord) {
  return {
    id: s.id,
    object: 'earshot.session' as const,
    type: s.type,
    model: s.model,
    key_id: s.keyId === ANONYMOUS_KEY_ID ? null : s.keyId,
    created_at_ms: s.createdAtMs,
    ended_at_ms: s.endedAtMs,
    end_reason: s.endReason,
  };
}

function utteranceJson(u: UtteranceRecord) {
  return {
    item_id: u.itemId,
    start_ms: u.startMs,
    end_ms: u.endMs,
    end_reason: u.endReason,
    committed_at_ms: u.committedAtMs,
    transcript: u.transcript,
    translation: u.translation,
    language: u.language,
    transcription_error: transcriptionErrorJson(u.transcriptionError),
  };
}

/**
 * The stored `{code, message}` of a failed caption (the store keeps it as JSON text), or null. A row that
 * does not parse (written by hand, or truncated) still reads as a failure rather than failing the request.
 */
export function transcriptionErrorJson(stored: string | null): { code: string; message: string } | null {
  if (stored === null) return null;
  try {
    const e = JSON.parse(stored) as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return { code: e.code, message: typeof e.message === 'string' ? e.message : '' };
  } catch {
    // fall through: unreadable
  }
  return { code: 'E_INTERNAL', message: 'The stored transcription error could not be read.' };
}

function responseJson(r: ResponseRecord) {
  return {
    id: r.id,
    input_item_id: r.inputItemId,
    status: r.status,
    text: r.text,
    usage: r.usage,
    created_at_ms: r.createdAtMs,
    completed_at_ms: r.completedAtMs,
  };
}

function toolCallJson(t: ToolCallRecord) {
  return {
    call_id: t.callId,
    response_id: t.responseId,
    name: t.name,
    arguments: t.argumentsJson,
    output: t.outputJson,
    status: t.status,
    started_at_ms: t.startedAtMs,
    ended_at_ms: t.endedAtMs,
  };
}
