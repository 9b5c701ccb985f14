/** Rows of the transcript store, in the store's own camelCase; times are ms (wall clock unless noted). */

export interface SessionRecord {
  id: string;
  keyId: string;
  /** 'realtime' | 'transcription' (the Realtime session type). */
  type: string;
  model: string | null;
  createdAtMs: number;
  endedAtMs: number | null;
  endReason: string | null;
}

export interface UtteranceRecord {
  sessionId: string;
  itemId: string;
  /** Audio time (sample clock) within the session, in ms. */
  startMs: number;
  endMs: number;
  endReason: string | null;
  committedAtMs: number;
  transcript: string | null;
  translation: string | null;
  language: string | null;
  /** JSON {code, message} of the reported transcription failure, or null. */
  transcriptionError: string | null;
}

export interface ResponseRecord {
  id: string;
  sessionId: string;
  /** The input item (usually the utterance) this response answers, when there is one. */
  inputItemId: string | null;
  /** Realtime response status: in_progress, completed, cancelled, incomplete, failed. */
  status: string;
  text: string | null;
  usage: unknown;
  createdAtMs: number;
  completedAtMs: number | null;
}

export interface ToolCallRecord {
  callId: string;
  sessionId: string;
  responseId: string | null;
  name: string;
  /** The model's arguments as JSON text (kept verbatim, even when invalid). */
  argumentsJson: string;
  outputJson: string | null;
  /** in_progress, completed, failed, timeout, cancelled. */
  status: string;
  startedAtMs: number;
  endedAtMs: number | null;
}

/** A session with everything recorded for it. */
export interface SessionDetail extends SessionRecord {
  utterances: UtteranceRecord[];
  responses: ResponseRecord[];
  toolCalls: ToolCallRecord[];
}

export interface SessionPage {
  sessions: SessionRecord[];
  hasMore: boolean;
}
