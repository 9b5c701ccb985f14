// What Earshot refuses in a session.update, field by field, with the param that names the field and a
// message that says what to send instead. Clients send many fields by default (agents-realtime always
// sends audio.output.format and speed, tracing, noise_reduction: null), so only settings Earshot would
// otherwise have to ignore while the client relies on them are refused: audio output, voices, noise
// reduction, hosted prompts, MCP tools. Fields with no effect on a text-only server
// (audio.output.format/speed, tracing, truncation, include, parallel_tool_calls) are accepted.
import { EarshotError } from '../errors.ts';
import { BETA_FLAT_SESSION_FIELDS } from '../protocol/beta_dialect.ts';
import type { WireSessionConfig } from '../protocol/session_schema.ts';

export type Dialect = 'ga' | 'beta';

const BETA_HINT = 'or connect with the beta dialect (subprotocol openai-beta.realtime-v1 or header OpenAI-Beta: realtime=v1)';

const GA_HOME: Record<(typeof BETA_FLAT_SESSION_FIELDS)[number], string> = {
  modalities: 'session.output_modalities',
  input_audio_format: 'session.audio.input.format',
  output_audio_format: 'session.audio.output.format',
  turn_detection: 'session.audio.input.turn_detection',
  input_audio_transcription: 'session.audio.input.transcription',
  input_audio_noise_reduction: 'session.audio.input.noise_reduction',
  max_response_output_tokens: 'session.max_output_tokens',
  voice: 'session.audio.output.voice',
};

function refuse(param: string, message: string): never {
  throw new EarshotError('E_UNSUPPORTED_FEATURE', message, { param });
}

/** Throws E_UNSUPPORTED_FEATURE for the first field Earshot cannot honour. `update` is in the GA shape. */
export function checkSessionSupport(update: WireSessionConfig, opts: { dialect: Dialect; rawFields: readonly string[] }): void {
  if (opts.dialect === 'ga') {
    for (const field of BETA_FLAT_SESSION_FIELDS) {
      if (opts.rawFields.includes(field)) refuse(`session.${field}`, `session.${field} is a beta (realtime=v1) field; in the GA API use ${GA_HOME[field]}, ${BETA_HINT}.`);
    }
  }
  const modalities = update.output_modalities;
  if (modalities?.includes('audio')) {
    refuse('session.output_modalities', `Earshot produces text only: set output_modalities to ["text"] (got ${JSON.stringify(modalities)}). With @openai/agents-realtime pass config: { outputModalities: ['text'] }.`);
  }
  const output = update.audio?.output;
  if (output?.voice !== undefined) {
    refuse('session.audio.output.voice', `Earshot has no voices (it answers in text only); remove the voice ${JSON.stringify(typeof output.voice === 'string' ? output.voice : output.voice.id)}.`);
  }
  const input = update.audio?.input;
  if (input?.noise_reduction != null) {
    refuse('session.audio.input.noise_reduction', 'Earshot does not apply noise reduction; set noise_reduction to null.');
  }
  const mcpIndex = update.tools?.findIndex((t) => t.type !== 'function') ?? -1;
  if (mcpIndex >= 0) {
    refuse(`session.tools[${mcpIndex}]`, 'Earshot supports function tools only (type "function"); MCP tools are not supported.');
  }
  if (update.tool_choice !== undefined && typeof update.tool_choice === 'object' && update.tool_choice.type !== 'function') {
    refuse('session.tool_choice', 'tool_choice may be "auto", "none", "required" or {type:"function", name}; MCP tool choices are not supported.');
  }
  if (update.prompt != null) {
    refuse('session.prompt', 'Stored prompts (session.prompt) live on OpenAI\'s platform; send the text as session.instructions instead.');
  }
}

/**
 * The dialect a WebSocket client asked for: beta with the subprotocol `openai-beta.realtime-v1` (browser
 * clients) or the header `OpenAI-Beta: realtime=v1` (Node clients; the `openai` package's beta
 * connectors send it), GA otherwise.
 */
export function dialectOf(info: { headers: Record<string, string | string[] | undefined>; protocols: readonly string[] }): Dialect {
  if (info.protocols.includes('openai-beta.realtime-v1')) return 'beta';
  const header = info.headers['openai-beta'];
  const values = (Array.isArray(header) ? header : [header ?? '']).flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
  return values.includes('realtime=v1') ? 'beta' : 'ga';
}
