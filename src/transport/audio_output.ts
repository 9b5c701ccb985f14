// Where a spoken answer's audio goes when the transport plays it itself (WebRTC: an RTP track paced at
// real time) instead of sending `response.output_audio.delta` events (WebSocket). The transport owns the
// playback buffer; the session owns the items and truncation.
import type { ServerEventPayload } from '../protocol/server_events.ts';

/** The output_audio_buffer.* events a sink reports (sent through the session, so sidebands see them too). */
export type AudioOutputEvent = Extract<ServerEventPayload, { type: `output_audio_buffer.${string}` }>;

export interface PlayedAudio {
  itemId: string;
  /** Milliseconds of that item's audio actually sent to the peer before the flush. */
  playedMs: number;
}

export interface AudioOutputSink {
  /** Queue 24 kHz mono s16 PCM of an assistant item; playback starts (output_audio_buffer.started) on the first write. */
  write(responseId: string, itemId: string, pcm24k: Int16Array): void;
  /** The response has no more audio; output_audio_buffer.stopped is sent once the buffer has drained. */
  end(responseId: string): void;
  /**
   * Drop everything not yet played (output_audio_buffer.cleared). Returns what was playing, so the session
   * can truncate that item at the audio the user heard; null when nothing was buffered.
   */
  clear(): PlayedAudio | null;
  /** True while buffered audio is still being played. */
  isPlaying(): boolean;
  /**
   * Where the sink sends its output_audio_buffer.* events. The connection calls it once when it is built
   * (the sink exists before the session does); until then the sink's events are dropped.
   */
  setEventSink?(emit: (event: AudioOutputEvent) => void): void;
  /** Milliseconds of audio written and not yet sent: a writer far ahead of playback can wait on it. */
  bufferedMs?(): number;
}
