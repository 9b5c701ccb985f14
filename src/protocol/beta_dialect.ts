// The beta (`OpenAI-Beta: realtime=v1` / subprotocol `openai-beta.realtime-v1`) spelling of the server
// events Earshot emits, for clients written against the beta API. Earshot builds every event in the GA
// shape; a beta connection passes each one through toBetaServerEvent just before encoding. Names and
// fields follow the `openai` package's beta realtime types (src/resources/beta/realtime).
//
// Contract with the session layer: emit GA item events (`conversation.item.added` then `.done`); the
// beta dialect has only `conversation.item.created`, produced here from `.added` (`.done` is dropped).
import type { ServerEvent } from './server_events.ts';
import type { ConversationItem, MessageContent, RealtimeResponseObject } from './server_items.ts';
import type { AudioFormat, SessionAudioInput, SessionObject } from './server_session.ts';

export type BetaServerEvent = { type: string; event_id: string; [field: string]: unknown };

/** Beta string format; the beta dialect cannot say "PCM at 16 kHz", so every PCM rate is 'pcm16'. */
export function toBetaAudioFormat(format: AudioFormat): 'pcm16' | 'g711_ulaw' | 'g711_alaw' {
  if (format.type === 'audio/pcmu') return 'g711_ulaw';
  if (format.type === 'audio/pcma') return 'g711_alaw';
  return 'pcm16';
}

function betaInputFields(input: SessionAudioInput): Record<string, unknown> {
  return {
    input_audio_format: toBetaAudioFormat(input.format),
    input_audio_transcription: input.transcription,
    input_audio_noise_reduction: input.noise_reduction,
    turn_detection: input.turn_detection,
  };
}

export function toBetaSession(session: SessionObject): Record<string, unknown> {
  if (session.type === 'transcription') {
    return {
      id: session.id,
      object: session.object,
      ...betaInputFields(session.audio.input),
      include: session.include,
      expires_at: session.expires_at,
    };
  }
  return {
    id: session.id,
    object: session.object,
    model: session.model,
    modalities: session.output_modalities,
    instructions: session.instructions,
    ...(session.audio.output?.voice === undefined ? {} : { voice: session.audio.output.voice }),
    ...betaInputFields(session.audio.input),
    output_audio_format: toBetaAudioFormat(session.audio.output?.format ?? session.audio.input.format),
    tools: session.tools,
    tool_choice: session.tool_choice,
    max_response_output_tokens: session.max_output_tokens,
    tracing: session.tracing,
    expires_at: session.expires_at,
  };
}

function toBetaContent(part: MessageContent): Record<string, unknown> {
  if (part.type === 'output_text') return { type: 'text', text: part.text };
  if (part.type === 'output_audio') return { ...part, type: 'audio' };
  return part;
}

export function toBetaItem(item: ConversationItem): Record<string, unknown> {
  if (item.type !== 'message') return item as unknown as Record<string, unknown>;
  return { ...item, content: item.content.map(toBetaContent) };
}

function toBetaResponse(response: RealtimeResponseObject): Record<string, unknown> {
  const { output_modalities, max_output_tokens, output, ...rest } = response;
  return {
    ...rest,
    modalities: output_modalities,
    max_output_tokens,
    output: output.map(toBetaItem),
  };
}

/**
 * The beta spelling of a GA event, or null when the beta dialect has no such event (the caller then
 * sends nothing). The event_id is kept, so ids stay unique.
 */
export function toBetaServerEvent(event: ServerEvent): BetaServerEvent | null {
  switch (event.type) {
    case 'session.created':
      return { ...event, session: toBetaSession(event.session) };
    case 'session.updated':
      return {
        ...event,
        type: event.session.type === 'transcription' ? 'transcription_session.updated' : 'session.updated',
        session: toBetaSession(event.session),
      };
    case 'conversation.item.added':
      return { ...event, type: 'conversation.item.created', item: toBetaItem(event.item) };
    case 'conversation.item.done':
      return null;
    case 'conversation.item.created':
    case 'conversation.item.retrieved':
    case 'response.output_item.added':
    case 'response.output_item.done':
      return { ...event, item: toBetaItem(event.item) };
    case 'response.created':
    case 'response.done':
      return { ...event, response: toBetaResponse(event.response) };
    case 'response.output_text.delta':
      return { ...event, type: 'response.text.delta' };
    case 'response.output_text.done':
      return { ...event, type: 'response.text.done' };
    default:
      return event as BetaServerEvent;
  }
}
