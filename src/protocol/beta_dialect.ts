// The beta (`OpenAI-Beta: realtime=v1` / subprotocol `openai-beta.realtime-v1`) spelling of the server
// events Earshot emits, for clients written against the beta API. Earshot builds every event in the GA
// shape; a beta connection passes each one through toBetaServerEvent just before encoding. Names and
// fields follow the `openai` package's beta realtime types (src/resources/beta/realtime).
//
// Contract with the session layer: emit GA item events (`conversation.item.added` then `.done`); the
// beta dialect has only `conversation.item.created`, produced here from `.added` (`.done` is dropped).
import { BETA_AUDIO_EVENT_NAMES } from './audio_events.ts';
import type { ServerEvent } from './server_events.ts';
import type { ConversationItem, MessageContent, RealtimeResponseObject } from './server_items.ts';
import type { AudioFormat, SessionAudioInput, SessionObject } from './server_session.ts';
import type { WireAudioFormat, WireBetaAudioFormat, WireSessionConfig } from './session_schema.ts';

export type BetaServerEvent = { type: string; event_id: string; [field: string]: unknown };

/** Which spelling of the API a client speaks. Only the wire edge (decode, encode) ever looks at it. */
export type Dialect = 'ga' | 'beta';

/**
 * The wire text of a GA event in `dialect`, or null when the beta API has no such event. The one place
 * where outgoing events change shape: everything before it (store, metrics, agent) sees GA events only.
 */
export function encodeServerEventIn(dialect: Dialect, event: ServerEvent): string | null {
  if (dialect === 'ga') return JSON.stringify(event);
  const beta = toBetaServerEvent(event);
  return beta === null ? null : JSON.stringify(beta);
}

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
      ...(session.ignored_fields ? { ignored_fields: session.ignored_fields } : {}),
    };
  }
  return {
    id: session.id,
    object: session.object,
    model: session.model,
    modalities: session.output_modalities,
    instructions: session.instructions,
    ...betaInputFields(session.audio.input),
    output_audio_format: toBetaAudioFormat(session.audio.output?.format ?? session.audio.input.format),
    ...(session.audio.output?.voice !== undefined ? { voice: session.audio.output.voice } : {}),
    ...(session.audio.output?.speed !== undefined ? { speed: session.audio.output.speed } : {}),
    tools: session.tools,
    tool_choice: session.tool_choice,
    max_response_output_tokens: session.max_output_tokens,
    tracing: session.tracing,
    expires_at: session.expires_at,
    ...(session.ignored_fields ? { ignored_fields: session.ignored_fields } : {}),
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
    case 'response.output_audio.delta':
    case 'response.output_audio.done':
    case 'response.output_audio_transcript.delta':
    case 'response.output_audio_transcript.done':
      return { ...event, type: BETA_AUDIO_EVENT_NAMES[event.type] };
    default:
      return event as BetaServerEvent;
  }
}

/** Beta string format -> GA format object ('pcm16' is 24 kHz PCM16 in the beta API). */
export function fromBetaAudioFormat(format: WireBetaAudioFormat): WireAudioFormat {
  if (format === 'g711_ulaw') return { type: 'audio/pcmu' };
  if (format === 'g711_alaw') return { type: 'audio/pcma' };
  return { type: 'audio/pcm', rate: 24_000 };
}

/** GA session params and their beta spelling, for errors and notes answering a beta client. */
const BETA_PARAMS: ReadonlyArray<[ga: string, beta: string]> = [
  ['session.audio.input.turn_detection', 'session.turn_detection'],
  ['session.audio.input.transcription', 'session.input_audio_transcription'],
  ['session.audio.input.noise_reduction', 'session.input_audio_noise_reduction'],
  ['session.audio.input.format', 'session.input_audio_format'],
  ['session.audio.output.format', 'session.output_audio_format'],
  ['session.audio.output.voice', 'session.voice'],
  ['session.output_modalities', 'session.modalities'],
  ['session.max_output_tokens', 'session.max_response_output_tokens'],
];

/** `param` of an error as a beta client spells it ('session.audio.input.turn_detection.x' -> 'session.turn_detection.x'). */
export function toBetaParam(param: string): string {
  for (const [ga, beta] of BETA_PARAMS)
    if (param === ga || param.startsWith(`${ga}.`)) return beta + param.slice(ga.length);
  return param;
}

/** Beta (flat) session fields that have a GA home under `audio`, `output_modalities` or `max_output_tokens`. */
export const BETA_FLAT_SESSION_FIELDS = [
  'modalities',
  'input_audio_format',
  'output_audio_format',
  'turn_detection',
  'input_audio_transcription',
  'input_audio_noise_reduction',
  'max_response_output_tokens',
  'voice',
] as const;

/**
 * A beta `session.update` / `transcription_session.update` session rewritten in the GA shape, so the
 * session layer validates and applies one shape. Fields the client set in both spellings keep the GA one.
 */
export function fromBetaSessionConfig(session: WireSessionConfig): WireSessionConfig {
  const {
    modalities,
    input_audio_format,
    output_audio_format,
    turn_detection,
    input_audio_transcription,
    input_audio_noise_reduction,
    max_response_output_tokens,
    voice,
    ...rest
  } = session;
  const input: Record<string, unknown> = {};
  if (input_audio_format !== undefined) input.format = fromBetaAudioFormat(input_audio_format);
  if (turn_detection !== undefined) input.turn_detection = turn_detection;
  if (input_audio_transcription !== undefined) input.transcription = input_audio_transcription;
  if (input_audio_noise_reduction !== undefined) input.noise_reduction = input_audio_noise_reduction;
  const output: Record<string, unknown> = {};
  if (output_audio_format !== undefined) output.format = fromBetaAudioFormat(output_audio_format);
  if (voice !== undefined) output.voice = voice;
  const audio = {
    ...rest.audio,
    ...(Object.keys(input).length > 0 || rest.audio?.input ? { input: { ...input, ...rest.audio?.input } } : {}),
    ...(Object.keys(output).length > 0 || rest.audio?.output ? { output: { ...output, ...rest.audio?.output } } : {}),
  };
  return {
    ...rest,
    ...(Object.keys(audio).length > 0 ? { audio: audio as WireSessionConfig['audio'] } : {}),
    ...(modalities !== undefined && rest.output_modalities === undefined ? { output_modalities: modalities } : {}),
    ...(max_response_output_tokens !== undefined && rest.max_output_tokens === undefined
      ? { max_output_tokens: max_response_output_tokens }
      : {}),
  };
}
