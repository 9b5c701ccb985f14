// The session's side of spoken answers: how a response speaks (the agent's AnswerSpeech, from the
// session's settings and the transport), and barge-in on a transport that plays audio itself (WebRTC):
// the player is flushed and the item it was playing truncated at what the listener heard.
import type { AgentRuntime } from '../agent/agent_runtime.ts';
import type { AnswerSpeech } from '../agent/spoken_answer.ts';
import type { WireResponseCreateParams } from '../protocol/client_events.ts';
import type { ServerEventPayload } from '../protocol/server_events.ts';
import { createSpeechEncoder } from '../tts/output_format.ts';
import type { AudioOutputSink } from '../transport/audio_output.ts';
import type { SpeechSettings } from './speech_settings.ts';

/** The runtime's `speech` option: null for a text response. */
export function answerSpeechFor(
  settings: SpeechSettings,
  player: AudioOutputSink | undefined,
): (params?: WireResponseCreateParams) => AnswerSpeech | null {
  return (params) => {
    const resolved = settings.resolve(params);
    if (!resolved.audio) return null;
    return {
      openStream: () => settings.openStream(resolved),
      delivery: player
        ? { kind: 'player', player }
        : { kind: 'events', newEncoder: () => createSpeechEncoder(resolved.format.type) },
    };
  };
}

/** The session has answered with audio once its first audio content part goes out (the voice is then fixed). */
export function observeSpeech(payload: ServerEventPayload, settings: SpeechSettings): void {
  if (payload.type === 'response.content_part.added' && payload.part.type === 'audio') settings.markSpoken();
}

/**
 * output_audio_buffer.clear, or speech starting while the player plays: what was not played is dropped
 * (the sink sends output_audio_buffer.cleared) and the item is truncated at the audio actually played.
 */
export function flushPlayer(player: AudioOutputSink | undefined, runtime: AgentRuntime | null): void {
  if (!player) return;
  const played = player.clear();
  if (!played || !runtime) return;
  try {
    runtime.truncateItem(played.itemId, 0, played.playedMs);
  } catch {
    // E_QUEUE_FULL: the flush itself happened; the transcript stays whole (the client may truncate).
  }
}
