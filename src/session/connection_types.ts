// The shapes a transport (ws_server, WebRTC, tests) uses to open a RealtimeConnection; re-exported by
// realtime_connection.ts, which remains the import path for them.
import type { AgentCatalogue } from '../agent/agent.ts';
import type { AgentRuntimeSettings } from '../agent/runtime_types.ts';
import type { AgentServices } from '../agent/services.ts';
import type { EarshotConfig } from '../config/schema.ts';
import type { SpeechEngine } from '../engine/engine_session.ts';
import type { EarshotError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { SpeechProbabilitySource } from '../pipeline/detect_speech.ts';
import type { Utterance } from '../pipeline/types.ts';
import type { ServerEvent } from '../protocol/server_events.ts';
import type { AudioOutputSink } from '../transport/audio_output.ts';
import type { SessionType } from './session_state.ts';
import type { Dialect } from './session_support.ts';
import type { Synthesizer } from '../tts/synthesizer.ts';

/** What a transport gives a connection: how to talk back and how to push back on a fast sender. */
export interface ConnectionTransport {
  /** Set by transports that play audio themselves (WebRTC); WebSocket leaves it unset and gets audio deltas. */
  audioOutput?: AudioOutputSink;
  /** Always a GA event: the writer maps it to the client's dialect (encodeServerEventIn) at the wire. */
  send(event: ServerEvent): void;
  /** Stop reading input (TCP backpressure) while the pipeline catches up. */
  pauseInput(): void;
  resumeInput(): void;
}

export interface VadStreamHandle extends SpeechProbabilitySource {
  close(): void;
}

export interface ConnectionOptions {
  config: EarshotConfig;
  transport: ConnectionTransport;
  openVadStream: () => VadStreamHandle;
  log: Logger;
  sessionType?: SessionType;
  /** Called for each committed utterance (besides the agent's turn runner). */
  onUtterance?: (utterance: Utterance) => void;
  /** Every decoded input sample reaches the pipeline through here (16 kHz count), VAD on or off. */
  onAudioIn?: (samples16k: number) => void;
  /** The voice agent runtime; without it the connection only detects and commits turns. */
  agent?: AgentConnectionOptions;
  /**
   * 'beta' when the client asked for the beta API (subprotocol `openai-beta.realtime-v1` or header
   * `OpenAI-Beta: realtime=v1`, see dialectOf): flat session fields are read here; the beta spelling of
   * outgoing events is the transport writer's job, so everything downstream sees GA shapes.
   */
  dialect?: Dialect;
  /** `?model=`: echoed in the session object (Earshot serves its one model whatever the name). */
  model?: string | null;
}

export interface AgentConnectionOptions {
  engine: SpeechEngine | null;
  /** Why there is no engine, with the fix (E_MODEL_MISSING: `earshot model pull` / --model DIR). */
  engineUnavailable?: EarshotError;
  /** The voice engine of spoken answers; null or absent: audio output is refused with synthesizerUnavailable. */
  synthesizer?: Synthesizer | null;
  /** Why there is no voice engine, with the fix (E_TTS_UNAVAILABLE). */
  synthesizerUnavailable?: EarshotError;
  catalogue: AgentCatalogue;
  /** ?agent=NAME; the catalogue's default when absent. */
  agentName?: string | null;
  settings: AgentRuntimeSettings;
  services: AgentServices;
}
