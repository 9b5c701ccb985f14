// How sockets become sessions: one place that builds a RealtimeConnection for a WebSocket or a WebRTC
// call (with an ephemeral key's preset applied), and the WebRTC calls route with its sidebands.
import type { AgentCatalogue } from '../agent/agent.ts';
import type { AgentRuntimeSettings } from '../agent/agent_runtime.ts';
import type { AgentServices } from '../agent/services.ts';
import type { EarshotConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import type { EarshotError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { WireSessionConfig } from '../protocol/session_schema.ts';
import { RealtimeConnection } from '../session/realtime_connection.ts';
import type { Dialect } from '../session/session_support.ts';
import { ANONYMOUS_KEY_ID, type Authenticator, type AuthIdentity } from '../transport/auth.ts';
import type { CallSidebands } from '../transport/call_sidebands.ts';
import type { ConnectionHooks, LiveSessions } from '../session/live_sessions.ts';
import type { AudioOutputSink } from '../transport/audio_output.ts';
import type { VoiceEngine } from '../tts/select.ts';
import { createWebRtcCallsRoute } from '../transport/webrtc/calls_route.ts';
import type { VadBatcher } from '../vad/vad_batcher.ts';

/** The engine as it is now (a model fetched on first start replaces the placeholder). */
export interface EngineAvailability {
  engine: SpeechEngine | null;
  unavailable?: EarshotError;
}

/** What the connection is built from, per socket (one place for the WebSocket and WebRTC). */
export interface ConnectionSetup {
  intent: string | null;
  agentName: string | null;
  model: string | null;
  dialect: Dialect;
  identity: AuthIdentity;
  peerPause(): void;
  peerResume(): void;
  /** A WebRTC call's outbound audio track (spoken answers play there instead of as audio deltas). */
  audioOutput?: AudioOutputSink;
}

export interface ConnectionFactoryDeps {
  config: EarshotConfig;
  log: Logger;
  batcher: VadBatcher;
  availability: EngineAvailability;
  voiceEngine: VoiceEngine;
  catalogue: AgentCatalogue;
  settings: AgentRuntimeSettings;
  services: AgentServices;
}

export type BuildConnection = (setup: ConnectionSetup, hooks: ConnectionHooks) => RealtimeConnection;

export function connectionFactory(deps: ConnectionFactoryDeps): BuildConnection {
  const { config, log, batcher, availability } = deps;
  return (setup, hooks) => {
    const preset = setup.identity.ephemeral?.session as WireSessionConfig | null | undefined;
    const transcription = setup.intent === 'transcription' || preset?.type === 'transcription';
    let applyingPreset = false;
    const connection = new RealtimeConnection({
      config,
      log,
      sessionType: transcription ? 'transcription' : 'realtime',
      dialect: setup.dialect,
      model: setup.model,
      openVadStream: () => hooks.wrapVadStream(batcher.openStream()),
      onUtterance: hooks.onUtterance,
      onAudioIn: hooks.onAudioIn,
      transport: {
        audioOutput: setup.audioOutput,
        // The preset's session.updated is not sent: session.created already shows the configuration.
        send: (event) => (applyingPreset && event.type === 'session.updated' ? undefined : hooks.send(event)),
        pauseInput: () => setup.peerPause(),
        resumeInput: () => setup.peerResume(),
      },
      agent: {
        engine: availability.engine,
        engineUnavailable: availability.unavailable,
        synthesizer: deps.voiceEngine.synthesizer,
        synthesizerUnavailable: deps.voiceEngine.unavailable,
        catalogue: deps.catalogue,
        agentName: setup.agentName,
        settings: deps.settings,
        services: deps.services,
      },
    });
    if (preset && Object.keys(preset).length > 0) {
      // An ephemeral key minted with a session configuration starts the session configured.
      applyingPreset = true;
      try {
        connection.handleText(JSON.stringify({ type: 'session.update', session: preset }));
      } finally {
        applyingPreset = false;
      }
    }
    return connection;
  };
}

export interface CallsRouteDeps {
  config: EarshotConfig;
  log: Logger;
  auth: Authenticator;
  sessions: LiveSessions;
  sidebands: CallSidebands<Dialect>;
  buildConnection: BuildConnection;
}

/**
 * POST /v1/realtime/calls: each call is a session; calls are registered by id so that a WebSocket with
 * ?call_id= can attach to a call's session as a sideband (only with the key that created the call).
 */
export function callsRoute(deps: CallsRouteDeps): ReturnType<typeof createWebRtcCallsRoute> {
  const { auth, sessions, sidebands } = deps;
  return createWebRtcCallsRoute({
    config: deps.config.webrtc,
    log: deps.log,
    authorize: (req) => {
      const decision = auth.authorizeRequest(req, { allowEphemeral: true });
      return decision.ok ? decision.identity.keyId : false;
    },
    openSession: (peer, info) => {
      const decision = auth.authorizeRequest({ headers: info.headers }, { allowEphemeral: true });
      const identity: AuthIdentity = decision.ok ? decision.identity : { kind: 'anonymous', keyId: ANONYMOUS_KEY_ID };
      const setup: ConnectionSetup = {
        intent: info.url.searchParams.get('intent'),
        agentName: info.url.searchParams.get('agent'),
        model: info.url.searchParams.get('model'),
        dialect: 'ga',
        identity,
        peerPause: () => {},
        peerResume: () => {},
        audioOutput: peer.audioOutput,
      };
      let connection: RealtimeConnection | null = null;
      const handler = sessions.open({ ...peer, pauseInput() {}, resumeInput() {} }, identity, (hooks) => {
        connection = deps.buildConnection(setup, hooks);
        return connection;
      });
      if (connection) sidebands.register(info.callId, identity.keyId, connection);
      return {
        handleText: (text) => handler.handleText(text),
        handlePcm16k: (samples) => handler.handlePcm16k(samples),
        dispose: () => {
          sidebands.end(info.callId);
          handler.dispose();
        },
      };
    },
  });
}
