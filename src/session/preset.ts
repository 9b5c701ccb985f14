// The session configuration an ephemeral key is minted with (its preset), checked exactly as the
// connection will apply it: as a session.update event through the same decoder (depth, schema), text
// bounds, dialect checks, agent resolution and SessionState. A preset the connection would refuse is
// refused at mint, so it is never accepted and then dropped at connect.
import type { AgentCatalogue } from '../agent/agent.ts';
import type { EarshotConfig } from '../config/schema.ts';
import { EarshotError } from '../errors.ts';
import { decodeClientEvent } from '../protocol/codec.ts';
import type { WireSessionConfig } from '../protocol/session_schema.ts';
import { resolveAgentUpdate } from './agent_selection.ts';
import { SessionState } from './session_state.ts';
import { checkSessionSupport } from './session_support.ts';
import { checkTextBounds, textBoundsFromConfig } from './text_bounds.ts';

/** The session object a connection opened with this preset would start with; throws what it would refuse. */
export function describePreset(config: EarshotConfig, preset: unknown, catalogue?: AgentCatalogue): unknown {
  const decoded = decodeClientEvent(JSON.stringify({ type: 'session.update', session: preset }));
  if (!decoded.ok)
    throw new EarshotError(decoded.code, decoded.message.replace("'session.update' event", 'session'), {
      param: decoded.param,
    });
  const event = decoded.event;
  if (event.type !== 'session.update')
    throw new EarshotError('E_INVALID_REQUEST', 'The session configuration could not be read.', { param: 'session' });
  checkTextBounds(event, textBoundsFromConfig(config.limits));
  const update = event.session as WireSessionConfig;
  checkSessionSupport(update, { dialect: 'ga', rawFields: Object.keys(event.session) });
  const type = update.type === 'transcription' ? 'transcription' : 'realtime';
  resolveAgentUpdate(update as Record<string, unknown>, catalogue ? { catalogue } : undefined, {
    agentName: null,
    type,
  });
  const state = new SessionState(config, type);
  state.apply(update);
  return state.toSessionObject();
}
