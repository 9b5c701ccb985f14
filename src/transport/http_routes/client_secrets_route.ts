import { z } from 'zod';
import { EarshotError } from '../../errors.ts';
import { exceedsDepth, MAX_EVENT_DEPTH } from '../../protocol/codec.ts';
import { sessionConfigSchema } from '../../protocol/session_schema.ts';
import type { Authenticator } from '../auth.ts';
import { sendJson, type HttpRoute } from '../ws_server.ts';
import { methodNotAllowed, readJsonBody, requireIdentity, withErrors } from './http_util.ts';

export const CLIENT_SECRETS_PATH = '/v1/realtime/client_secrets';
/** Default bound on the request body: a WebSocket event's (server.max_message_bytes' default). */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Room for the rest of the body (expires_after, JSON punctuation) beside the largest preset. */
const BODY_SLACK_BYTES = 4096;

const requestSchema = z.looseObject({
  expires_after: z
    .looseObject({
      anchor: z.literal('created_at').optional(),
      seconds: z.number().int().min(10).max(7200).optional(),
    })
    .optional(),
  // Checked below exactly as a session.update at connect would be (describeSession), not by this schema.
  session: z.unknown().optional(),
});

export type RequestedSession = z.infer<typeof sessionConfigSchema>;

/**
 * POST /v1/realtime/client_secrets, as OpenAI's: an API key (not an ephemeral one) mints an `ek_...` key
 * that a browser uses once to connect. Answers `{ value, expires_at, session }` (expires_at in seconds since
 * the epoch). `describeSession` turns the requested configuration into the full session object the
 * server would create (the session layer knows its defaults) and must throw (an EarshotError) for any
 * configuration a connection would refuse: a preset is never accepted here and dropped at connect. Without
 * it the configuration is checked against the schema and echoed back. The body has a WebSocket event's
 * limits: at most maxBodyBytes and MAX_EVENT_DEPTH levels of nesting; the preset at most the key's bound.
 */
export function createClientSecretsRoute(opts: {
  auth: Authenticator;
  describeSession?: (requested: RequestedSession) => unknown;
  maxBodyBytes?: number;
}): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname !== CLIENT_SECRETS_PATH) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return true;
    }
    const identity = requireIdentity(opts.auth, req, res);
    if (!identity) return true;
    await withErrors(res, async () => {
      // Never more than a WebSocket event, nor more than the largest preset needs: refused before buffering.
      const maxBodyBytes = Math.min(
        opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        opts.auth.maxPresetBytes + BODY_SLACK_BYTES,
      );
      const body = await readJsonBody(req, maxBodyBytes);
      if (body !== null && typeof body === 'object' && exceedsDepth(body, MAX_EVENT_DEPTH)) {
        throw new EarshotError(
          'E_INVALID_REQUEST',
          `The body nests arrays or objects deeper than ${MAX_EVENT_DEPTH} levels.`,
        );
      }
      const parsed = requestSchema.safeParse(body);
      if (!parsed.success) throw invalid(parsed.error.issues[0]);
      const presetBytes =
        parsed.data.session === undefined ? 0 : Buffer.byteLength(JSON.stringify(parsed.data.session));
      if (presetBytes > opts.auth.maxPresetBytes) {
        throw new EarshotError(
          'E_PAYLOAD_TOO_LARGE',
          `The session configuration is ${presetBytes} bytes; an ephemeral key may carry at most ${opts.auth.maxPresetBytes} (auth.max_ephemeral_preset_bytes).`,
          { param: 'session' },
        );
      }
      // Safe once the depth is bounded; describeSession then checks it as a connection would.
      const checked = sessionConfigSchema.optional().safeParse(parsed.data.session);
      if (!checked.success) throw invalid(checked.error.issues[0], 'session');
      const requested: RequestedSession = checked.data ?? { type: 'realtime' };
      const session = opts.describeSession ? opts.describeSession(requested) : { type: 'realtime', ...requested };
      const key = opts.auth.issueEphemeralKey(identity, {
        ttlS: parsed.data.expires_after?.seconds,
        session: requested,
      });
      sendJson(res, 200, { value: key.value, expires_at: key.expiresAtS, session });
    });
    return true;
  };
}

function invalid(issue: { path: PropertyKey[]; message: string }, prefix?: string): EarshotError {
  const param = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
  return new EarshotError('E_INVALID_REQUEST', `Invalid ${param || 'body'}: ${issue.message}`, {
    param: param || undefined,
  });
}
