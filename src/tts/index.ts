// Spoken answers: voice engines behind one Synthesizer interface and the streaming SpeechStream.
import type { TtsConfig } from '../config/tts_schema.ts';
import { PipelinedSpeechStream } from './speech_stream.ts';
import type { SpeechStream, Synthesizer } from './synthesizer.ts';
import { resolveVoice } from './voices.ts';

export {
  SPEECH_OUTPUT_RATE_HZ,
  type PcmChunk,
  type SpeechStream,
  type SynthesisRequest,
  type Synthesizer,
  type SynthesizerName,
} from './synthesizer.ts';
export { EspeakSynthesizer, checkEspeakInstalled, ESPEAK_SAMPLE_RATE_HZ } from './espeak_synthesizer.ts';
export { RemoteSynthesizer } from './remote_synthesizer.ts';
export { PipelinedSpeechStream, type SpeechStreamOptions } from './speech_stream.ts';
export {
  createSpeechEncoder,
  OUTPUT_BYTES_PER_SECOND,
  type SpeechEncoder,
  type SpeechOutputFormat,
} from './output_format.ts';
export {
  openSynthesizer,
  noVoiceEngine,
  type SynthesizerHooks,
  type VoiceEngine,
  type VoiceEngineStatus,
} from './select.ts';
export { resolveVoice } from './voices.ts';

/**
 * One answer's SpeechStream on `synthesizer`, with the voice resolved through tts.voices (an OpenAI name
 * or an engine voice id; absent = tts.default_voice) and the stream bounds of tts.stream.
 */
export function openSpeechStream(
  synthesizer: Synthesizer,
  tts: TtsConfig,
  options: { voice?: string | null; speed?: number; onOverflow?: (droppedChars: number) => void } = {},
): SpeechStream {
  return new PipelinedSpeechStream({
    synthesizer,
    voice: resolveVoice(tts, synthesizer.name, options.voice),
    speed: options.speed ?? 1,
    bounds: tts.stream,
    onOverflow: options.onOverflow,
  });
}
