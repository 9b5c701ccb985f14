// The voice engine as a connection sees it (SessionSpeechService): wire voices mapped to engine voices
// by the tts.voices table, and one PipelinedSpeechStream per answer.
import type { TtsConfig } from '../config/tts_schema.ts';
import { EarshotError } from '../errors.ts';
import { PipelinedSpeechStream } from '../tts/speech_stream.ts';
import type { Synthesizer } from '../tts/synthesizer.ts';
import type { SessionSpeechOptions, SessionSpeechService } from './speech_settings.ts';

/**
 * A wire voice is an OpenAI name of the tts.voices table (mapped to this engine's voice) or one of the
 * engine's own voice ids (Synthesizer.voices()); anything else is unknown, so a typo is an error at
 * session.update rather than a failure in the middle of an answer.
 */
export function sessionSpeechService(synthesizer: Synthesizer, tts: TtsConfig): SessionSpeechService {
  const engineVoices = new Set(synthesizer.voices());
  const resolveVoice = (voice: string): string | null => {
    const mapped = tts.voices[voice]?.[synthesizer.name];
    if (mapped !== undefined) return mapped;
    // An engine that lists no voices (a remote endpoint) takes any id; the others only their own.
    return engineVoices.size === 0 || engineVoices.has(voice) ? voice : null;
  };
  return {
    resolveVoice,
    voiceNames: () => [...Object.keys(tts.voices).filter((name) => resolveVoice(name) !== null), ...engineVoices],
    defaultVoice: tts.default_voice,
    openStream: (engineVoice, speed) =>
      new PipelinedSpeechStream({ synthesizer, voice: engineVoice, speed, bounds: tts.stream }),
    warmUp: (engineVoice, speed) => synthesizer.warmUp?.(engineVoice, speed),
  };
}

/** What each connection gets: the service, or why there is none (E_TTS_UNAVAILABLE with the fix). */
export function sessionSpeechOptions(
  synthesizer: Synthesizer | null,
  tts: TtsConfig,
  unavailable?: EarshotError,
): SessionSpeechOptions {
  if (synthesizer) return { service: sessionSpeechService(synthesizer, tts) };
  return {
    service: null,
    unavailable:
      unavailable ??
      new EarshotError(
        'E_TTS_UNAVAILABLE',
        'This server has no voice engine, so answers are text only. Install espeak-ng (apt install espeak-ng) or set tts.remote.url, then restart.',
      ),
  };
}
