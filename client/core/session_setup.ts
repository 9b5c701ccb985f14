// What a client asks for when it connects: the agent, the mode (spoken agent, captions, translated
// captions) and the transport. Turned into the Realtime connection URL and the first `session.update`.
// Earshot cannot change a session's type after connecting, so captions modes connect with
// `?intent=transcription` and the agent is chosen with `?agent=` (both on the WebSocket URL and on the
// WebRTC `POST /v1/realtime/calls` URL).
import type { SessionUpdateEvent } from '../../src/protocol/client_events.ts';

export type ClientMode = 'agent' | 'captions' | 'translate';
export type ClientTransport = 'webrtc' | 'websocket';

/** Agents offered when the server has no `GET /v1/agents` (the built-in catalogue). */
export const DEFAULT_AGENTS: readonly string[] = ['assistant', 'trip-planner', 'captioner', 'call-center'];

/** The WebSocket path streams PCM16 at 16 kHz, the pipeline's own rate, so the server never resamples. */
export const CLIENT_PCM_RATE_HZ = 16_000;

export interface SessionSetup {
  agent: string;
  mode: ClientMode;
  /** Spoken language hint (BCP 47 / ISO 639-1), optional. */
  language?: string;
  /** Target language of the captions in 'translate' mode. */
  translateTo?: string;
  transport: ClientTransport;
  /** Extra instructions for the agent (session.instructions); empty = the agent's own. */
  instructions?: string;
  /** Server VAD: silence that ends a turn, ms, and the speech threshold (0-1); unset = server defaults. */
  silenceDurationMs?: number;
  vadThreshold?: number;
  /** Spoken answers (agent mode over WebRTC only: they play on the call's audio track). */
  speaker?: boolean;
}

export function sessionType(mode: ClientMode): 'realtime' | 'transcription' {
  return mode === 'agent' ? 'realtime' : 'transcription';
}

/** Query parameters shared by the WebSocket URL and the WebRTC calls URL. */
export function connectionQuery(setup: SessionSetup): URLSearchParams {
  const query = new URLSearchParams();
  if (setup.agent !== '') query.set('agent', setup.agent);
  if (sessionType(setup.mode) === 'transcription') query.set('intent', 'transcription');
  return query;
}

/** `ws(s)://host/v1/realtime?...` for a page or server at `base` (http(s) or ws(s) URL). */
export function realtimeWebSocketUrl(base: string, setup: SessionSetup): string {
  const url = new URL('/v1/realtime', base);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  url.search = connectionQuery(setup).toString();
  return url.toString();
}

export function realtimeCallsUrl(base: string, setup: SessionSetup): string {
  const url = new URL('/v1/realtime/calls', base);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'https:' : 'http:';
  url.search = connectionQuery(setup).toString();
  return url.toString();
}

export function sessionUpdateFor(setup: SessionSetup): SessionUpdateEvent {
  const transcription: Record<string, string> = {};
  if (setup.language) transcription.language = setup.language;
  if (setup.mode === 'translate' && setup.translateTo) transcription.translate_to = setup.translateTo;
  const input: Record<string, unknown> = { transcription };
  const turnDetection: Record<string, unknown> = {};
  if (setup.silenceDurationMs !== undefined) turnDetection.silence_duration_ms = setup.silenceDurationMs;
  if (setup.vadThreshold !== undefined) turnDetection.threshold = setup.vadThreshold;
  if (Object.keys(turnDetection).length > 0) input.turn_detection = { type: 'server_vad', ...turnDetection };
  // WebRTC audio arrives on the media track (Opus), so its format is not the client's to declare.
  if (setup.transport === 'websocket') input.format = { type: 'audio/pcm', rate: CLIENT_PCM_RATE_HZ };
  const session: SessionUpdateEvent['session'] = { type: sessionType(setup.mode), audio: { input } };
  if (setup.mode === 'agent') session.output_modalities = outputModalities(setup);
  if (setup.mode === 'agent' && setup.instructions) session.instructions = setup.instructions;
  return { type: 'session.update', session };
}

/** ['audio'] (spoken answers with their transcript) when the speaker is on for a WebRTC call, else ['text']. */
export function outputModalities(setup: SessionSetup): ['audio'] | ['text'] {
  return setup.speaker === true && setup.transport === 'webrtc' ? ['audio'] : ['text'];
}

export function isClientMode(value: string): value is ClientMode {
  return value === 'agent' || value === 'captions' || value === 'translate';
}
