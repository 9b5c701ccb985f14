// Server events of a spoken answer (output_modalities ["audio"]), GA names. The beta dialect renames
// them (response.audio.delta, response.audio_transcript.*) in beta_dialect.ts. Every one carries the ids
// agents-realtime validates (response_id, item_id, output_index, content_index).

interface AudioContentRef {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}

export type AudioServerEventPayload =
  /** Base64 audio in the session's output format; sent over WebSocket only (WebRTC plays it on the track). */
  | ({ type: 'response.output_audio.delta'; delta: string } & AudioContentRef)
  | ({ type: 'response.output_audio.done' } & AudioContentRef)
  | ({ type: 'response.output_audio_transcript.delta'; delta: string } & AudioContentRef)
  | ({ type: 'response.output_audio_transcript.done'; transcript: string } & AudioContentRef);

/** GA name -> beta name of the spoken-answer events. */
export const BETA_AUDIO_EVENT_NAMES: Readonly<Record<AudioServerEventPayload['type'], string>> = {
  'response.output_audio.delta': 'response.audio.delta',
  'response.output_audio.done': 'response.audio.done',
  'response.output_audio_transcript.delta': 'response.audio_transcript.delta',
  'response.output_audio_transcript.done': 'response.audio_transcript.done',
};
