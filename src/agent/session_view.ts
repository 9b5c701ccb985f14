// What the agent reads of its connection's session configuration. The agent owns this interface and the
// session layer's SessionState implements it, so the agent never imports the session layer.
import type {
  FunctionToolDefinition,
  MaxOutputTokens,
  ToolChoice,
  TranscriptionConfig,
  TurnDetectionConfig,
} from '../protocol/server_session.ts';

export type SessionType = 'realtime' | 'transcription';

export interface AgentSessionView {
  readonly id: string;
  readonly type: SessionType;
  readonly instructions: string;
  /** Client-side function tools: returned to the client as function calls. */
  readonly tools: readonly FunctionToolDefinition[];
  readonly toolChoice: ToolChoice;
  readonly maxOutputTokens: MaxOutputTokens;
  readonly transcription: TranscriptionConfig | null;
  readonly turnDetection: TurnDetectionConfig | null;
}
