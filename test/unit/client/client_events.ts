// Builders of server events for the client's unit tests (the protocol's own builder stamps event ids).
import { serverEvent, type ServerEvent, type ServerEventPayload } from '../../../src/protocol/server_events.ts';

export function ev(payload: ServerEventPayload): ServerEvent {
  return serverEvent(payload) as ServerEvent;
}

export const started = (itemId: string, ms: number) =>
  ev({ type: 'input_audio_buffer.speech_started', audio_start_ms: ms, item_id: itemId });
export const stopped = (itemId: string, ms: number) =>
  ev({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: ms, item_id: itemId });
export const delta = (itemId: string, text: string) =>
  ev({ type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta: text });
export const completed = (itemId: string, transcript: string) =>
  ev({
    type: 'conversation.item.input_audio_transcription.completed',
    item_id: itemId,
    content_index: 0,
    transcript,
    usage: { type: 'duration', seconds: 1 },
  });
export const textDelta = (responseId: string, itemId: string, text: string) =>
  ev({
    type: 'response.output_text.delta',
    response_id: responseId,
    item_id: itemId,
    output_index: 0,
    content_index: 0,
    delta: text,
  });

export function responseDone(
  id: string,
  status: 'completed' | 'cancelled',
  reason?: 'turn_detected' | 'client_cancelled',
): ServerEvent {
  return ev({
    type: 'response.done',
    response: {
      id,
      object: 'realtime.response',
      status,
      status_details: reason ? { type: 'cancelled', reason } : null,
      output: [],
      conversation_id: 'conv_1',
      output_modalities: ['text'],
      max_output_tokens: 'inf',
      usage: null,
      metadata: null,
    },
  });
}
