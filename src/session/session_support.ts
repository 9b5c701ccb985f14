// What Earshot refuses in a session.update, field by field, and what it accepts without effect. Clients
// send many fields by default (LiveKit's plugin a voice, others `modalities: ["text","audio"]`,
// agents-realtime audio.output.format and speed), so a field that has no effect on a text-only server is
// accepted and listed in the echo's `ignored_fields` (param + reason) where the client can see it. Only
// what would change behaviour invisibly is refused: hosted prompts, MCP tools, beta fields in a GA session.
import { EarshotError } from '../errors.ts';
import { BETA_FLAT_SESSION_FIELDS, type Dialect } from '../protocol/beta_dialect.ts';
import type { WireSessionConfig } from '../protocol/session_schema.ts';

export type { Dialect };

const BETA_HINT =
  'or connect with the beta dialect (subprotocol openai-beta.realtime-v1 or header OpenAI-Beta: realtime=v1)';

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
export function checkSessionSupport(
  update: WireSessionConfig,
  opts: { dialect: Dialect; rawFields: readonly string[] },
): void {
  if (opts.dialect === 'ga') {
    for (const field of BETA_FLAT_SESSION_FIELDS) {
      if (opts.rawFields.includes(field))
        refuse(
          `session.${field}`,
          `session.${field} is a beta (realtime=v1) field; in the GA API use ${GA_HOME[field]}, ${BETA_HINT}.`,
        );
    }
  }
  const mcpIndex = update.tools?.findIndex((t) => t.type !== 'function') ?? -1;
  if (mcpIndex >= 0) {
    refuse(
      `session.tools[${mcpIndex}]`,
      'Earshot supports function tools only (type "function"); MCP tools are not supported.',
    );
  }
  if (
    update.tool_choice !== undefined &&
    typeof update.tool_choice === 'object' &&
    update.tool_choice.type !== 'function'
  ) {
    refuse(
      'session.tool_choice',
      'tool_choice may be "auto", "none", "required" or {type:"function", name}; MCP tool choices are not supported.',
    );
  }
  if (update.prompt != null) {
    refuse(
      'session.prompt',
      "Stored prompts (session.prompt) live on OpenAI's platform; send the text as session.instructions instead.",
    );
  }
}

/**
 * The dialect a WebSocket client asked for: beta with the subprotocol `openai-beta.realtime-v1` (browser
 * clients) or the header `OpenAI-Beta: realtime=v1` (Node clients; the `openai` package's beta
 * connectors send it), GA otherwise.
 */
export function dialectOf(info: {
  headers: Record<string, string | string[] | undefined>;
  protocols: readonly string[];
}): Dialect {
  if (info.protocols.includes('openai-beta.realtime-v1')) return 'beta';
  const header = info.headers['openai-beta'];
  const values = (Array.isArray(header) ? header : [header ?? ''])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase());
  return values.includes('realtime=v1') ? 'beta' : 'ga';
}

/** A field of an update that Earshot accepted without effect, as the echo reports it. */
export interface IgnoredField {
  param: string;
  reason: string;
}

const TEXT_ONLY = 'This server has no voice engine and answers in text only: output_modalities is ["text"]';

/**
 * Fields of `raw` (the update as the client sent it, in its dialect) that Earshot accepts but does not
 * apply; params are named in the client's own spelling. `speaks`: the server has a voice engine, so the
 * audio-output fields take effect.
 */
export function ignoredFields(raw: WireSessionConfig, dialect: Dialect, speaks = false): IgnoredField[] {
  const out: IgnoredField[] = [];
  const note = (param: string, reason: string) => out.push({ param: `session.${param}`, reason });
  const beta = dialect === 'beta';
  if (!speaks) textOnlyNotes(raw, beta, note);
  const noise = raw.audio?.input?.noise_reduction ?? (beta ? raw.input_audio_noise_reduction : undefined);
  if (noise != null)
    note(
      raw.audio?.input?.noise_reduction != null ? 'audio.input.noise_reduction' : 'input_audio_noise_reduction',
      'Earshot does not apply noise reduction; the audio is used as sent.',
    );
  if (raw.temperature !== undefined)
    note(
      'temperature',
      "The agent's own generation settings apply (greedy decoding unless the agent sets a temperature).",
    );
  if (raw.tracing != null) note('tracing', 'Tracing is an OpenAI platform feature; Earshot logs locally instead.');
  if (raw.truncation !== undefined)
    note('truncation', 'Earshot keeps the context within its budget by replacing old audio with transcripts.');
  if (raw.parallel_tool_calls !== undefined)
    note('parallel_tool_calls', 'The model decides how many calls it writes in one answer.');
  if (raw.include != null && raw.include.length > 0) note('include', 'Log probabilities are not reported.');
  return out;
}

/** Audio-output fields of a server without a voice engine: accepted, without effect. */
function textOnlyNotes(raw: WireSessionConfig, beta: boolean, note: (param: string, reason: string) => void): void {
  const modalities = raw.output_modalities ?? (beta ? raw.modalities : undefined);
  if (modalities?.includes('audio'))
    note(raw.output_modalities ? 'output_modalities' : 'modalities', `${TEXT_ONLY} (audio output is not produced).`);
  const output = raw.audio?.output;
  if (output?.voice !== undefined || (beta && raw.voice !== undefined))
    note(output?.voice !== undefined ? 'audio.output.voice' : 'voice', `${TEXT_ONLY}; no voice is used.`);
  if (output?.format !== undefined || (beta && raw.output_audio_format !== undefined))
    note(
      output?.format !== undefined ? 'audio.output.format' : 'output_audio_format',
      `${TEXT_ONLY}; there is no audio output.`,
    );
  if (output?.speed !== undefined) note('audio.output.speed', `${TEXT_ONLY}; there is no audio output.`);
}
