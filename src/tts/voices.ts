// Voice names on the wire -> engine voice ids. Clients send OpenAI's names (alloy, coral, ...); the config
// table maps each to a voice of the engine in use. A name not in the table is taken as an engine voice id
// (en-gb for espeak, af_bella for Kokoro), so engine voices can be asked for directly.
import { EarshotError } from '../errors.ts';
import type { TtsConfig } from '../config/tts_schema.ts';
import type { SynthesizerName } from './synthesizer.ts';

const MAX_VOICE_CHARS = 64;

/** The engine voice id for `requested` (or tts.default_voice when absent) on the given engine. */
export function resolveVoice(
  tts: Pick<TtsConfig, 'voices' | 'default_voice'>,
  engine: SynthesizerName,
  requested?: string | null,
): string {
  const name = requested ?? tts.default_voice;
  if (name.length === 0 || name.length > MAX_VOICE_CHARS) {
    throw new EarshotError('E_TTS_VOICE', `A voice name has 1 to ${MAX_VOICE_CHARS} characters.`, { param: 'voice' });
  }
  const entry = tts.voices[name];
  if (entry === undefined) return name;
  const mapped = entry[engine];
  if (mapped !== undefined) return mapped;
  // The table names the voice but not for this engine: the default voice's entry, else the name itself.
  return tts.voices[tts.default_voice]?.[engine] ?? name;
}
