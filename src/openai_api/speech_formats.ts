// The audio of POST /v1/audio/speech in its response_format, as a byte stream: pcm (24 kHz s16le, as
// OpenAI's), wav (the same PCM after a 44-byte header whose sizes say "streaming", as OpenAI's streamed WAV
// does) and mp3 (through the `lame` program). Other OpenAI formats (opus, aac, flac) are refused.
import { EarshotError } from '../errors.ts';
import { int16ToLittleEndianBytes } from '../tts/output_format.ts';
import { isLameInstalled, startMp3Encoder } from '../tts/lame_mp3.ts';
import { SPEECH_OUTPUT_RATE_HZ } from '../tts/synthesizer.ts';

export type SpeechResponseFormat = 'pcm' | 'wav' | 'mp3';

export const CONTENT_TYPES: Record<SpeechResponseFormat, string> = {
  pcm: 'audio/pcm',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
};

const WAV_HEADER_BYTES = 44;
const STREAMING_SIZE = 0xffffffff; // length unknown while streaming; readers use the bytes present

/** A 44-byte PCM WAV header for 24 kHz mono s16 of unknown length. */
export function streamingWavHeader(sampleRateHz = SPEECH_OUTPUT_RATE_HZ): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, STREAMING_SIZE, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, STREAMING_SIZE, true);
  return header;
}

let lameCheck: Promise<boolean> | null = null;
/** Whether mp3 can be produced here (checked once per process). */
export function mp3Available(): Promise<boolean> {
  lameCheck ??= isLameInstalled();
  return lameCheck;
}

/** The response format a request gets: as asked, or without one mp3 (OpenAI's default) when lame exists, else wav. */
export async function chooseSpeechFormat(requested: string | undefined): Promise<SpeechResponseFormat> {
  if (requested === undefined) return (await mp3Available()) ? 'mp3' : 'wav';
  if (requested === 'pcm' || requested === 'wav') return requested;
  if (requested === 'mp3') {
    if (await mp3Available()) return 'mp3';
    throw new EarshotError(
      'E_UNSUPPORTED_FORMAT',
      'mp3 needs the lame program on the server (apt install lame); ask for wav or pcm.',
      { param: 'response_format' },
    );
  }
  throw new EarshotError(
    'E_UNSUPPORTED_FORMAT',
    `response_format "${requested}" is not supported; use pcm, wav or mp3.`,
    { param: 'response_format' },
  );
}

/** The answer's audio (24 kHz s16 chunks) as the bytes of `format`. */
export async function* encodeSpeech(
  audio: AsyncIterable<Int16Array>,
  format: SpeechResponseFormat,
): AsyncGenerator<Uint8Array> {
  if (format === 'mp3') {
    yield* encodeMp3(audio);
    return;
  }
  if (format === 'wav') yield streamingWavHeader();
  for await (const pcm of audio) yield int16ToLittleEndianBytes(pcm);
}

async function* encodeMp3(audio: AsyncIterable<Int16Array>): AsyncGenerator<Uint8Array> {
  const encoder = startMp3Encoder();
  let feedError: unknown = null;
  const feeding = (async () => {
    try {
      for await (const pcm of audio) await encoder.write(int16ToLittleEndianBytes(pcm));
      encoder.end();
    } catch (err) {
      feedError = err;
      encoder.kill();
    }
  })();
  try {
    yield* encoder.output;
    await feeding;
    if (feedError) throw feedError;
  } finally {
    encoder.kill();
  }
}
