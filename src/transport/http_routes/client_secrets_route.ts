import { z } from 'zod';
import { EarshotError } from '../../errors.ts';
import { sessionConfigSchema } from '../../protocol/session_schema.ts';
import type { Authenticator } from '../auth.ts';
import { sendJson, type HttpRoute } from '../ws_server.ts';
import { methodNotAllowed, readJsonBody, requireIdentity, withErrors } from './http_util.ts';

export const CLIENT_SECRETS_PATH = '/v1/realtime/client_secrets';
/** A session configuration with tools and instructions fits easily; more is refused before parsing. */
const MAX_BODY_BYTES = 256 * 1024;

const requestSchema = z.looseObject({
  expires_after: z
    .looseObject({
      anchor: z.literal('created_at').optional(),
      seconds: z.number().int().min(10).max(7200).optional(),
    })
    .optional(),
  session: sessionConfigSchema.optional(),
});

export type RequestedSession = z.infer<typeof sessionConfigSchema>;

/**
 * POST /v1/realtime/client_secrets, as OpenAI's: an API key (not an ephemeral one) mints an `ek_...` key
 * that a browser uses once to connect. Answers `{ value, expires_at, session }` (expires_at in seconds since
 * the epoch). `describeSession` turns the requested configuration into the full session object the
 * server would create (the session layer knows its defaults); without it the request is echoed back.
 */
export function createClientSecretsRoute(opts: { auth: Authenticator; describeSession?: (requested: RequestedSession) => unknown }): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname !== CLIENT_SECRETS_PATH) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, 'POST');
      return true;
    }
    const identity = requireIdentity(opts.auth, req, res);
    if (!identity) return true;
    await withErrors(res, async () => {
      const parsed = requestSchema.safeParse(await readJsonBody(req, MAX_BODY_BYTES));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const param = issue.path.join('.');
        throw new EarshotError('E_INVALID_REQUEST', `Invalid ${param || 'body'}: ${issue.message}`, { param: param || undefined });
      }
      const requested: RequestedSession = parsed.data.session ?? { type: 'realtime' };
      const session = opts.describeSession ? opts.describeSession(requested) : { type: 'realtime', ...requested };
      const key = opts.auth.issueEphemeralKey(identity, { ttlS: parsed.data.expires_after?.seconds, session: requested });
      sendJson(res, 200, { value: key.value, expires_at: key.expiresAtS, session });
    });
    return true;
  };
}
